"""A cost as people read it: the exact value, no trailing zeros, no exponent."""

from __future__ import annotations

from decimal import MAX_PREC, Context, Decimal, InvalidOperation

__all__ = ["plain_decimal"]

# Enough precision that reducing or rescaling never rounds: the value stays exact.
_EXACT = Context(prec=MAX_PREC)
_ONE = Decimal(1)
_ZERO = Decimal(0)
_TEN = Decimal(10)
_MINUS_TEN = -_TEN


def plain_decimal(value: Decimal) -> Decimal:
    """``value`` without meaningless trailing zeros, never with a positive exponent.

    ``Decimal('1.2825000')`` becomes ``Decimal('1.2825')``, ``Decimal('0E-7')``
    becomes ``Decimal('0')`` and ``Decimal('1E+1')`` becomes ``Decimal('10')``:
    the same number, so ``format(cost, "f")`` and ``str(cost)`` of any cost from
    a dollar down to a millionth print it plainly. (Python's ``str`` of a
    Decimal under a millionth still uses an exponent, ``1E-7``, whatever its
    digits; ``format(cost, "f")`` never does.) Zero is ``Decimal('0')``;
    NaN and infinities come back as they are.
    """
    # Priced on every call: the common case (a finite cost under $10) costs one
    # normalize() and one chained comparison; NaN makes the comparison raise.
    try:
        reduced = value.normalize(_EXACT)
        if _MINUS_TEN < reduced < _TEN:
            return reduced or _ZERO  # -0 too
        # Only a whole number from ten up can reduce to a positive exponent (1E+1).
        if reduced == reduced.to_integral_value(context=_EXACT):
            return reduced.quantize(_ONE, context=_EXACT)
    except InvalidOperation:  # NaN, sNaN; an infinity cannot be quantized
        return value
    return reduced
