"""Dollars as integers, the only exact numbers Redis has.

Redis counts in signed 64-bit integers (``HINCRBY``) and its Lua scripts in
doubles (exact up to 2**53). tokenbudget's money is ``Decimal``; it goes to
Redis in two shapes:

- **Usage counters** (the store, and the usage of a budget window): three
  integer fields per amount, ``*_e9``, ``*_e18`` and ``*_e27``, holding the
  digits of the amount in units of 1e-9, 1e-18 and 1e-27 dollars. Each call
  adds below 1e9 to the two finer fields, so a field holds nine billion calls
  before it could overflow, and no carry is ever needed: the fields are summed
  only when read, in Python, exactly. Every built-in price (at most 6 decimals
  per 1M tokens, i.e. 1e-12 dollars per token; a handful of OpenRouter entries
  carry float noise down to 1e-24) gives costs exact in these fields. A cost
  finer than 1e-27 dollars is rounded up to it.
- **Budget admission** (compared inside a Lua script): a pair ``(micro, pico)``
  of whole micro-dollars and the pico-dollars below them (0..999,999), exact
  in doubles up to $9 billion. Costs and reservations are rounded *up* to a
  pico-dollar and limits *down*, so rounding can only refuse a call a
  pico-dollar early, never let one overshoot. Every built-in price is exact
  at a pico-dollar per token.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["LIMB", "from_limbs", "from_pico", "to_limbs", "to_pico", "units"]

#: Digits per usage-counter field: 1e-9, 1e-18 and 1e-27 dollars.
LIMB = 9
_LIMB = 10**LIMB
_PICO = 12
_MICRO = 10**6


def units(amount: Decimal, places: int, *, up: bool = True) -> tuple[int, bool]:
    """``amount * 10**places`` as an int (rounded up or down) and whether it was exact.

    Pure integer arithmetic: no decimal context, no precision limit.
    """
    if not amount.is_finite():
        raise ValueError(f"not a finite amount of money: {amount}")
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    whole = int("".join(map(str, digits)) or "0")
    shift = exponent + places
    if shift >= 0:
        value, exact = whole * 10**shift, True
    else:
        value, rest = divmod(whole, 10**-shift)
        exact = rest == 0
        if not exact and up != bool(sign):  # up: toward +infinity; down: toward -infinity
            value += 1
    return (-value if sign else value), exact


def to_limbs(amount: Decimal) -> tuple[tuple[int, int, int], bool]:
    """The ``(e9, e18, e27)`` fields of ``amount`` (rounded up at 1e-27), and exactness."""
    value, exact = units(amount, 3 * LIMB)
    e9, rest = divmod(value, _LIMB * _LIMB)
    e18, e27 = divmod(rest, _LIMB)
    return (e9, e18, e27), exact


def from_limbs(e9: int, e18: int, e27: int) -> Decimal:
    """The exact amount of (possibly summed, unnormalised) limbs."""
    return _decimal(e9 * _LIMB * _LIMB + e18 * _LIMB + e27, 3 * LIMB)


def to_pico(amount: Decimal, *, up: bool = True) -> tuple[int, int]:
    """``(micro, pico)`` of ``amount``: rounded up (costs) or down (limits) to a pico-dollar."""
    value, _ = units(amount, _PICO, up=up)
    return divmod(value, _MICRO)


def from_pico(micro: int, pico: int) -> Decimal:
    """The amount of a ``(micro, pico)`` pair."""
    return _decimal(micro * _MICRO + pico, _PICO)


def _decimal(value: int, places: int) -> Decimal:
    """``value * 10**-places`` as an exact Decimal without trailing zeros."""
    if value == 0:
        return Decimal(0)
    while places > 0 and value % 10 == 0:
        value //= 10
        places -= 1
    return Decimal(f"{value}E-{places}")  # parsing a string is exact at any length
