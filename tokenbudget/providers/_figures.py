"""The one validation boundary for the numbers a provider reports.

Every usage normaliser reads its provider's figures through a
:class:`UsageFigures`: a token count must be an ``int`` in ``[0, MAX_TOKENS]``
(``tokenbudget._data``), a reported cost a finite number of dollars in
``[0, MAX_COST_USD]``. Anything else (a negative or huge number, a string, a
float, a bool, NaN, a required figure missing) is dropped there: the figure
counts as not reported, and the usage is marked estimated with the reason
``invalid usage: completion_tokens='12'`` (the provider's own field names).
The record is then built with what is known and the dropped figures counted
locally, as for a call that reported no usage, and a warning is logged once
per provider and field (``tokenbudget._core``'s record building does both).

Usage built by someone else's normaliser (``OpenAIProvider(normalise=...)``)
passes through :func:`checked_usage` on its way in, to the same effect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

from .._core import INVALID_USAGE
from .._data import COUNT_FIELDS, MAX_TOKENS, Usage, is_cost, is_count, short_repr

__all__ = [
    "UsageFigures",
    "checked_usage",
    "checking",
    "invalid_reason",
    "is_validating",
    "validating",
]

_EMPTY: Mapping[str, int] = MappingProxyType({})
N = TypeVar("N", bound=Callable[..., Any])
_VALIDATING: set[Callable[..., Any]] = set()


def validating(normalise: N) -> N:
    """Mark ``normalise`` as reading its figures through :class:`UsageFigures`."""
    _VALIDATING.add(normalise)
    return normalise


def is_validating(normalise: Callable[..., Any]) -> bool:
    """True for a normaliser marked by :func:`validating` (its usage needs no second check)."""
    return normalise in _VALIDATING


def checking(normalise: Callable[[Mapping[str, Any]], Usage]) -> Callable[[Any], Usage]:
    """``normalise`` followed by :func:`checked_usage`: for normalisers tokenbudget does not own."""

    def checked(usage: Mapping[str, Any]) -> Usage:
        return checked_usage(normalise(usage)) or Usage(
            estimated=True, estimate_reason=invalid_reason(["usage=not a Usage"])
        )

    return checked


def invalid_reason(problems: list[str]) -> str:
    """The ``estimate_reason`` of usage with these bad figures (``"name=value"`` each)."""
    return f"{INVALID_USAGE}: {'; '.join(problems)}"


class UsageFigures:
    """Reads one usage report's numbers, keeping note of each that is not valid.

    ``count`` and ``required`` return a valid count or 0; ``cost`` a valid cost
    or ``None``; :meth:`usage` marks the finished usage estimated when anything
    was dropped.
    """

    __slots__ = ("problems",)

    def __init__(self) -> None:
        #: ``"name=value"`` of each figure dropped, in order; ``None`` while there is none.
        self.problems: list[str] | None = None

    def count(self, value: Any, name: str, part: str | None = None) -> int:
        """A token count: ``value`` when valid, 0 when absent (``None``), else 0 and noted.

        ``part`` names a figure inside ``name``'s object (``prompt_tokens_details``,
        ``cached_tokens``): joined only when the figure is dropped, not on every call.
        """
        if type(value) is int and 0 <= value <= MAX_TOKENS:  # the fast path
            return value
        if value is None:
            return 0
        return self._drop(name if part is None else f"{name}.{part}", short_repr(value))

    def required(self, value: Any, name: str) -> int:
        """A count the report must have: as :meth:`count`, but absence is noted too."""
        if type(value) is int and 0 <= value <= MAX_TOKENS:
            return value
        return self._drop(name, "missing" if value is None else short_repr(value))

    def cost(self, value: Any, name: str) -> Decimal | None:
        """A reported cost in dollars, or ``None`` when absent or not valid (then noted)."""
        if value is None:
            return None
        if is_cost(value):
            return Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        self._drop(name, short_repr(value))
        return None

    def units(self, values: Mapping[str, Any], prefix: str) -> Mapping[str, int]:
        """Billable units by name (server tool requests...): the valid, non-zero ones."""
        found = {}
        for key, value in values.items():
            if not isinstance(key, str):
                continue
            units = self.count(value, f"{prefix}.{key}")
            if units:
                found[key] = units
        return MappingProxyType(found) if found else _EMPTY

    def usage(self, usage: Usage) -> Usage:
        """``usage`` as built from these figures: marked estimated if any was dropped.

        A sum of valid figures past the ceiling (input plus cache reads plus
        writes...) is dropped too: every count a record holds is in range.
        """
        if usage.input_tokens > MAX_TOKENS or usage.output_tokens > MAX_TOKENS:
            usage = self._cap(usage)
        if self.problems is None:
            return usage
        return replace(usage, estimated=True, estimate_reason=invalid_reason(self.problems))

    def _cap(self, usage: Usage) -> Usage:
        over: dict[str, Any] = {n: 0 for n in COUNT_FIELDS if getattr(usage, n) > MAX_TOKENS}
        for name in over:
            self._drop(name, f"{getattr(usage, name)} (a sum over the ceiling)")
        return replace(usage, **over)

    def _drop(self, name: str, shown: str) -> int:
        if self.problems is None:
            self.problems = []
        self.problems.append(f"{name}={shown}")
        return 0


def checked_usage(usage: Any) -> Usage | None:
    """Usage from a normaliser tokenbudget does not own, with every figure in range.

    Out-of-range figures become 0 and the usage is marked estimated with the
    reason; something that is not a :class:`~tokenbudget.Usage` at all gives
    ``None`` (as if no usage had been reported).
    """
    if not isinstance(usage, Usage):
        return None
    figures = UsageFigures()
    fixed: dict[str, Any] = {}
    for name in COUNT_FIELDS:
        value = getattr(usage, name)
        if not is_count(value):
            fixed[name] = figures.count(value, name)
    extra = usage.extra
    if not isinstance(extra, Mapping) or not all(is_count(v) for v in extra.values()):
        fixed["extra"] = figures.units(extra if isinstance(extra, Mapping) else {}, "extra")
    cost = usage.reported_cost_usd
    if cost is not None and not is_cost(cost):
        fixed["reported_cost_usd"] = figures.cost(cost, "reported_cost_usd")
    if not fixed:
        return usage
    return figures.usage(replace(usage, **fixed))
