"""A budget's arguments: the values they take, and the checks ``budget(...)`` makes at once.

Bad arguments fail when the budget is built, with a ``ValueError`` naming the
argument and the value given, never later on some LLM call.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from .._data import TokenBudgetError

__all__ = ["OnExceed", "Preflight", "check_arguments", "parse_dollars"]

Preflight = Literal["minimum", "worst_case", "clamp"]
OnExceed = Literal["raise", "warn"] | Callable[[TokenBudgetError], object]

_POLICIES = ("minimum", "worst_case", "clamp")


def parse_dollars(value: Decimal | float | str | None) -> Decimal | None:
    """A limit in dollars as an exact ``Decimal`` (a float by its shortest repr: 0.1 is 0.1).

    ``None`` stays ``None``; anything negative, infinite or not a number is a ``ValueError``.
    """
    if value is None:
        return None
    try:
        money = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        money = Decimal("NaN")
    if not money.is_finite() or money < 0:
        raise ValueError(f"max_cost_usd must be a non-negative amount, not {value!r}")
    return money


def check_arguments(
    *,
    max_tokens: int | None,
    preflight: str,
    on_exceed: object,
    warn_at: float | None,
    min_output_tokens: int,
) -> None:
    """Raise ``ValueError`` for the first of these arguments that is out of its range."""
    if max_tokens is not None and max_tokens < 0:
        raise ValueError(f"max_tokens must be non-negative, not {max_tokens}")
    if preflight not in _POLICIES:
        raise ValueError(f"preflight must be one of {', '.join(_POLICIES)}, not {preflight!r}")
    if not (on_exceed in ("raise", "warn") or callable(on_exceed)):
        raise ValueError(f"on_exceed must be 'raise', 'warn' or a callable, not {on_exceed!r}")
    if warn_at is not None and not 0 < warn_at <= 1:
        raise ValueError(f"warn_at must be a share in (0, 1], not {warn_at}")
    if min_output_tokens < 1:
        raise ValueError(f"min_output_tokens must be at least 1, not {min_output_tokens}")
