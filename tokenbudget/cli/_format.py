"""Output of the price commands: money, aligned tables, a model's notes and price sheet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TextIO

from .._data import plain_decimal
from ..pricing import RATE_FIELDS, ModelPrice

__all__ = ["money", "price_flags", "sheet_rows", "table"]

_EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)


def money(value: Decimal | None) -> str:
    """A Decimal exactly, without trailing zeros or exponent (``-`` for none)."""
    if value is None:
        return "-"
    return format(plain_decimal(value), "f")


def table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """Print rows as left-aligned columns (first row is the header)."""
    if not rows:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            + "\n"
        )
        if index == 0:
            out.write("  ".join("-" * width for width in widths) + "\n")


def price_flags(price: ModelPrice) -> str:
    """The NOTES column of ``tokenbudget prices``: what the one-line rates leave out."""
    if price.unpriced is not None:
        return "unpriced"
    period = price.entry.prices[-1]
    flags = []
    if period.tiers:
        flags.append("tiers>" + ",".join(f"{t.above // 1000}k" for t in period.tiers))
    if period.batch is not None or price.batch_multiplier is not None:
        flags.append("batch")
    flags.extend(sorted(period.service_tiers))
    if period.windows:
        flags.append("peak-hours")
    if len(price.entry.prices) > 1:
        flags.append("dated")
    if price.deprecated:
        flags.append("deprecated")
    return " ".join(flags)


def sheet_rows(found: ModelPrice, period: Any) -> list[list[str]]:
    """The table of one price period: a row per variant and prompt-size tier, then windows.

    Rates are read through the engine at a moment of the period's first full
    day outside every peak window, so each row shows what a call is charged.
    """
    start: datetime = period.from_ or _EARLIEST
    day = (start + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    windows = [window.minutes() for window in period.windows]
    quiet = next(m for m in range(0, 1440, 5) if not any(_inside(m, w) for w in windows))
    at = day + timedelta(minutes=quiet)
    columns = [name for name in RATE_FIELDS if _any_set(period, name)]
    columns = list(
        dict.fromkeys(
            ["input", "output", "cached_input", "cache_write", "cache_write_1h", *columns]
        )
    )
    rows = [["VARIANT", *[c.upper().replace("_", " ") for c in columns], "EXTRA"]]
    variants: list[tuple[str, str | None, bool]] = [("standard", None, False)]
    if period.batch is not None or found.batch_multiplier is not None:
        variants.append(("batch", None, True))
    variants.extend((name, name, False) for name in period.service_tiers)
    thresholds = sorted(
        {t.above for t in period.tiers}
        | {t.above for s in period.service_tiers.values() for t in s.tiers}
        | ({t.above for t in period.batch.tiers} if period.batch else set())
    )
    for label, tier, batch in variants:
        for tokens, suffix in [(0, "")] + [(a + 1, f" >{a}") for a in thresholds]:
            rates = found.rates(at, service_tier=tier, batch=batch, input_tokens=tokens)
            if rates is None:
                continue
            values = rates.as_dict()
            extra = ", ".join(
                f"{k[6:]}={money(v)}" for k, v in values.items() if k.startswith("extra.")
            )
            rows.append([label + suffix, *[money(values.get(c)) for c in columns], extra])
    for window, (begin, _) in zip(period.windows, windows, strict=True):
        rates = found.rates(day + timedelta(minutes=begin))
        values = rates.as_dict() if rates else {}
        rows.append([f"{window.utc} UTC", *[money(values.get(c)) for c in columns], ""])
    return rows


def _inside(minute: int, window: tuple[int, int]) -> bool:
    start, end = window
    return start <= minute < end if start < end else (minute >= start or minute < end)


def _any_set(period: Any, name: str) -> bool:
    return getattr(period, name) is not None
