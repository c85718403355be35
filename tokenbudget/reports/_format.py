"""How numbers and names look in reports: ``12.3k`` tokens, ``$0.000135``, aligned unicode."""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["clean", "display_width", "human_tokens", "pad", "usd"]

_UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k"))
_CENT = Decimal("0.01")
_SMALLEST = Decimal("1E-10")
#: Bidirectional controls would reorder the rest of a table row on screen.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}


def human_tokens(count: int) -> str:
    """A token count in three significant digits: ``950``, ``1.23k``, ``12.3k``, ``4.56M``."""
    if abs(count) < 1000:
        return str(count)
    sign = "-" if count < 0 else ""
    count = abs(count)
    step = 10 ** (len(str(count)) - 3)
    rounded = (count + step // 2) // step * step  # 999_950 -> 1_000_000
    for scale, suffix in _UNITS:
        if rounded >= scale:
            value = Decimal(rounded) / scale
            places = 2 if value < 10 else 1 if value < 100 else 0
            return f"{sign}{value:.{places}f}{suffix}"
    return str(count)  # unreachable: count >= 1000


def usd(value: Decimal) -> str:
    """Dollars with enough digits that a small call never reads as zero.

    ``$1,234.57`` from one dollar up; up to four places from a cent
    (``$0.0421``, ``$0.5``); below a cent up to three significant digits
    (``$0.000135``, ``$0.004``); exactly zero is ``$0.00``; below a
    ten-billionth of a dollar ``<$0.0000000001``. Below a dollar the rounded
    amount drops its trailing zeros, like every cost tokenbudget shows.
    """
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount == 0:
        return "$0.00"
    if amount < _SMALLEST:
        return f"{sign}<${_SMALLEST:f}"
    if amount < _CENT:
        places = 2 - amount.adjusted()
        amount = amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        if amount < _CENT:
            return f"{sign}${amount.normalize():f}"
    if amount < 1:
        amount = amount.quantize(Decimal("0.0001"), ROUND_HALF_UP)
        if amount < 1:
            return f"{sign}${amount.normalize():f}"
    return f"{sign}${amount.quantize(_CENT, ROUND_HALF_UP):,.2f}"


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes: wide (CJK, most emoji) count 2, combining marks 0."""
    return sum(_char_width(char) for char in text)


def clean(text: str, max_width: int = 48) -> str:
    """``text`` safe for one table cell: controls shown as ``?``, cut with ``…`` if too wide."""
    safe = "".join(
        "?" if unicodedata.category(char) == "Cc" or char in _BIDI else char for char in text
    )
    if display_width(safe) <= max_width:
        return safe
    out, width = [], 0
    for char in safe:
        width += _char_width(char)
        if width > max_width - 1:
            break
        out.append(char)
    return "".join(out) + "…"


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` cells, on the left when ``right``-aligned."""
    fill = " " * max(width - display_width(text), 0)
    return fill + text if right else text + fill
