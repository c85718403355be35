"""Normalised token usage of one call.

Every provider reports usage differently; each provider module converts its own
report into this one shape, so pricing, budgets and reports never need to know
where a figure came from. The conventions are contracts (DESIGN.md):

- ``input_tokens`` is every prompt token billed, *including* cache reads and cache
  writes. ``cached_input_tokens`` (reads) and ``cache_write_tokens`` (all writes)
  are parts of it; ``cache_write_1h_tokens`` is the 1-hour part of the writes.
- ``output_tokens`` is every output token billed, reasoning included;
  ``reasoning_tokens`` is part of it.
- audio and image token counts are parts of input/output as well.
- ``extra`` holds billable units that are not tokens, by unit name: the price
  data names the same units in its ``extra`` prices (``web_search_requests``,
  ``file_search_requests``, ``requests``, ``requests_low`` / ``_medium`` /
  ``_high``...; the list is in ``tokenbudget.pricing``'s schema and the README).
  ``calculate_cost()`` and ``tracker.track()`` take them as ``units={...}``.
- ``estimated`` is true when any figure was counted by tokenbudget rather than
  reported by the provider; ``estimate_reason`` says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ._frozen import SharedDefault, frozen_builder, reduce_frozen

__all__ = ["Usage", "make_usage", "units_mapping"]

_EMPTY: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage of one call, normalised across providers."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0
    image_input_tokens: int = 0
    image_output_tokens: int = 0
    extra: Mapping[str, int] = field(default_factory=SharedDefault(_EMPTY))
    estimated: bool = False
    #: A cost the provider reported itself (e.g. OpenRouter ``usage.cost``); it
    #: wins over the price database when present.
    reported_cost_usd: Decimal | None = None
    #: Why the figures are estimated (``None`` when they are not, or nobody said).
    estimate_reason: str | None = None

    __reduce__ = reduce_frozen

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens billed at the plain input price (no cache read or write)."""
        return self.input_tokens - self.cached_input_tokens - self.cache_write_tokens

    def with_estimated(self, estimated: bool = True, reason: str | None = None) -> Usage:
        """A copy with the ``estimated`` flag set, and its reason when given."""
        if not estimated:
            return replace(self, estimated=False, estimate_reason=None)
        return replace(self, estimated=True, estimate_reason=reason or self.estimate_reason)

    def with_units(self, units: Mapping[str, int]) -> Usage:
        """A copy with per-unit billables added to ``extra`` (counts of one unit add up)."""
        extra = dict(self.extra)
        for unit, count in units.items():
            extra[unit] = extra.get(unit, 0) + count
        return replace(self, extra=MappingProxyType(extra) if extra else _EMPTY)

    def __add__(self, other: object) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        extra = dict(self.extra)
        for key, value in other.extra.items():
            extra[key] = extra.get(key, 0) + value
        reported = None
        if self.reported_cost_usd is not None or other.reported_cost_usd is not None:
            reported = (self.reported_cost_usd or Decimal(0)) + (
                other.reported_cost_usd or Decimal(0)
            )
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cache_write_1h_tokens=self.cache_write_1h_tokens + other.cache_write_1h_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            audio_input_tokens=self.audio_input_tokens + other.audio_input_tokens,
            audio_output_tokens=self.audio_output_tokens + other.audio_output_tokens,
            image_input_tokens=self.image_input_tokens + other.image_input_tokens,
            image_output_tokens=self.image_output_tokens + other.image_output_tokens,
            extra=MappingProxyType(extra) if extra else _EMPTY,
            estimated=self.estimated or other.estimated,
            reported_cost_usd=reported,
            estimate_reason=self.estimate_reason or other.estimate_reason,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict of the non-default figures plus the totals."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                if value:
                    out["extra"] = dict(value)
            elif f.name in ("reported_cost_usd", "estimate_reason"):
                if value is not None:
                    out[f.name] = str(value)
            else:
                out[f.name] = value
        out["total_tokens"] = self.total_tokens
        return out


#: Builds a :class:`Usage` as ``Usage(...)`` does, faster (per-call paths).
make_usage = frozen_builder(Usage)


def units_mapping(
    units: Mapping[str, int] | None, extra: Mapping[str, int] | None = None
) -> Mapping[str, int]:
    """A read-only copy of the per-unit counts a user passed (``units=``, or the older ``extra=``).

    Raises ``TypeError`` when both are given or one is not a mapping; the
    counts themselves are checked with the rest of the usage (``check_usage``).
    """
    if extra is not None:
        if units is not None:
            raise TypeError("give per-unit counts as units=..., not both units= and extra=")
        units = extra
    if units is None:
        return _EMPTY
    if not isinstance(units, Mapping):
        raise TypeError(
            f"units must be a mapping of unit name to count, got {type(units).__name__}"
        )
    return MappingProxyType(dict(units)) if units else _EMPTY
