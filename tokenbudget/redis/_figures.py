"""A call record as integer counters, and counters back as a :class:`UsageSummary`.

The same figures serve the usage store (per day, provider/model and tag) and
the usage of a shared budget's window, so both read back exactly what
:class:`~tokenbudget._data.RunningTotals` would have counted in memory.
Money is kept in three fields per amount (see ``_money``); figures that are
zero are left out of the increments.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal

from .._data import CallRecord, UsageSummary
from ._money import from_limbs, to_limbs

__all__ = ["COUNTS", "FIGURES", "MAX_FIGURE", "OutOfRange", "figures", "summary"]

logger = logging.getLogger("tokenbudget")

#: Integer figures of :class:`UsageSummary`, stored as they are.
COUNTS = (
    "calls",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "unpriced_calls",
    "cached_calls",
    "failed_calls",
    "estimated_calls",
)
_MONEY = ("cost", "saved")
_LIMBS = ("e9", "e18", "e27")
#: Every field name a record's figures may use.
FIGURES = COUNTS + tuple(f"{name}_{limb}" for name in _MONEY for limb in _LIMBS)

_warned_inexact = False

#: The largest figure one call may add: far above any real call, and with room
#: for millions of such calls before a counter reaches 2**63 (``HINCRBY``) or a
#: budget's token sum leaves the integers a Lua double holds exactly (2**53).
MAX_FIGURE = 10**15


class OutOfRange(ValueError):
    """A record's figure Redis cannot count (negative, too large, not an integer)."""


def _money(name: str, amount: Decimal, out: dict[str, int]) -> None:
    global _warned_inexact
    limbs, exact = to_limbs(amount)
    if not exact and not _warned_inexact:
        _warned_inexact = True
        logger.warning(
            "tokenbudget: a cost of %s has over 27 decimals; Redis counts it rounded up", amount
        )
    for limb, value in zip(_LIMBS, limbs, strict=True):
        if value:
            out[f"{name}_{limb}"] = value


def figures(record: CallRecord) -> dict[str, int]:
    """What ``record`` adds to each counter (zeros left out)."""
    usage = record.usage
    out = {
        "calls": 1,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "unpriced_calls": int(record.cost_usd is None),
        "cached_calls": int(record.cached),
        "failed_calls": int(not record.succeeded),
        "estimated_calls": int(usage.estimated),
    }
    if record.cost_usd is not None:
        _money("cost", record.cost_usd, out)
    if record.cached and record.saved_cost_usd is not None:
        _money("saved", record.saved_cost_usd, out)
    for name, value in out.items():
        if type(value) is not int or not 0 <= value <= MAX_FIGURE:
            raise OutOfRange(f"{name}={value!r} is out of range for Redis counters")
    return {name: value for name, value in out.items() if value}


def add(total: dict[str, int], more: Mapping[str, int]) -> None:
    """Add ``more`` into ``total``, figure by figure."""
    for name, value in more.items():
        total[name] = total.get(name, 0) + value


def summary(counters: Mapping[str, int]) -> UsageSummary:
    """The totals ``counters`` hold (missing figures are zero)."""

    def money(name: str) -> Decimal:
        return from_limbs(*(counters.get(f"{name}_{limb}", 0) for limb in _LIMBS))

    return UsageSummary(
        **{name: counters.get(name, 0) for name in COUNTS},
        cost_usd=money("cost"),
        saved_cost_usd=money("saved"),
    )


def parse(pairs: Iterable[tuple[bytes | str, bytes | str]]) -> dict[str, int]:
    """A Redis hash reply (``HGETALL``) as ``{field: int}``."""
    return {(key.decode() if isinstance(key, bytes) else key): int(value) for key, value in pairs}
