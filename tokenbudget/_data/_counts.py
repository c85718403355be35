"""What a figure of usage may be: a count is an ``int`` in ``[0, MAX_TOKENS]``, a cost finite.

Two kinds of callers check numbers against these bounds. Figures a provider
sent are read leniently at the providers' validation boundary
(``tokenbudget.providers.UsageFigures``): a bad one is dropped, the call is
recorded as estimated and a warning is logged. Figures a user passes in
(``tracker.track(...)``, ``calculate_cost(...)``, a ``Usage`` given to
``tracker.add_record``) are the user's own code: a bad one raises here, with
a message naming the field and the value.

The ceiling is far above any real call (the largest context windows hold a
few million tokens) and far below what stores and Redis can hold exactly
(SQLite integers stop at 2**63 - 1, Lua numbers are exact to 2**53), so the
totals of millions of calls stay exact too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ._usage import Usage

__all__ = [
    "COUNT_FIELDS",
    "MAX_COST_USD",
    "MAX_TOKENS",
    "check_count",
    "check_usage",
    "is_count",
    "is_cost",
]

#: The largest token count (or count of billable units) one call may report.
MAX_TOKENS = 1_000_000_000
#: The largest cost in dollars one call may report (OpenRouter's ``usage.cost``...).
MAX_COST_USD = 1_000_000

#: The ``Usage`` fields that hold token counts.
COUNT_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "audio_input_tokens",
    "audio_output_tokens",
    "image_input_tokens",
    "image_output_tokens",
)


def is_count(value: object) -> bool:
    """True for an ``int`` (not a ``bool``) in ``[0, MAX_TOKENS]``."""
    if type(value) is int:  # the fast path: what every provider sends
        return 0 <= value <= MAX_TOKENS
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS


def is_cost(value: object) -> bool:
    """True for a finite number (not a ``bool``) of dollars in ``[0, MAX_COST_USD]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if isinstance(value, Decimal) and not value.is_finite():
        return False
    return 0 <= value <= MAX_COST_USD


def check_count(name: str, value: Any) -> int:
    """``value`` if it is a token count; else ``TypeError`` (not an int) or ``ValueError``."""
    if type(value) is int and 0 <= value <= MAX_TOKENS:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {short_repr(value)}")
    if not 0 <= value <= MAX_TOKENS:
        raise ValueError(f"{name} must be between 0 and {MAX_TOKENS:,}, got {short_repr(value)}")
    return int(value)


def check_usage(usage: Usage) -> Usage:
    """``usage`` if every figure in it is in range; else ``TypeError`` or ``ValueError``.

    For usage a user built (``Usage(...)``): token counts and ``extra`` units are
    counts, a reported cost is a finite non-negative ``Decimal``.
    """
    if not isinstance(usage, Usage):
        raise TypeError(f"usage must be a tokenbudget.Usage, got {type(usage).__name__}")
    for name in COUNT_FIELDS:
        check_count(name, getattr(usage, name))
    extra = usage.extra
    if not isinstance(extra, Mapping):
        raise TypeError(f"extra must be a mapping, got {type(extra).__name__}")
    for key, value in extra.items():
        if not isinstance(key, str):
            raise TypeError(f"extra keys must be strings, got {short_repr(key)}")
        check_count(f"extra[{key!r}]", value)
    cost = usage.reported_cost_usd
    if cost is not None and not (isinstance(cost, Decimal) and is_cost(cost)):
        raise ValueError(
            f"reported_cost_usd must be a Decimal between 0 and {MAX_COST_USD:,}, "
            f"got {short_repr(cost)}"
        )
    return usage


def short_repr(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters (a hostile value may be huge)."""
    try:
        text = repr(value)
    except Exception:  # a repr that fails says nothing useful
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
