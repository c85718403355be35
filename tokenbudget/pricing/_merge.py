"""Laying one model entry over another, field by field, in time.

An override entry (from the ``$TOKENBUDGET_PRICES`` file, or written by
``tokenbudget prices update``) is merged over the built-in entry of the same
name, never put in its place. The rule, one clause per part of an entry:

- **Prices, in time.** Both histories are cut at every ``from`` date either
  side names. For each piece, the built-in period in effect then is the base
  and the override period in effect then (if any) is laid over it: every price
  the override period names wins; every price it does not name keeps the
  built-in value. An override period without ``from`` covers all of history;
  one with ``from`` leaves the built-in prices before that date untouched.
- **Inside a period**, recursively: ``extra`` prices and ``service_tiers`` by
  key, ``batch`` as a sheet, prompt-size ``tiers`` by their ``above``
  threshold, peak-hour ``windows`` by their ``utc`` span. A tier, window,
  service tier, batch price or extra the override does not name is kept.
- **The entry.** A field the override sets (``name``, ``note``,
  ``context_window``, ``deprecated``, ``source``, ``checked``) wins, any other
  keeps the built-in value. When the override has the built-in entry's own
  ``id``, its aliases are added to the built-in ones; when it names one alias
  of a model, the merged prices apply to that name only.
- An ``unpriced`` side does not merge: an unpriced override replaces the
  entry, and an override over an unpriced entry brings its own prices.

So an override can change or add any price, and erases nothing: price
history, windows, tiers, service tiers, batch prices, extras and aliases the
built-in data has survive it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from ._schema import ModelEntry, Period

__all__ = ["merge_entry", "merge_history", "period_at"]

#: List fields of a sheet merged item by item, with the key that pairs their items.
_KEYED_LISTS = {"tiers": "above", "windows": "utc"}
_BEGINNING = datetime.min.replace(tzinfo=timezone.utc)


def merge_entry(base: ModelEntry, over: ModelEntry) -> ModelEntry:
    """``over`` laid over ``base`` (see the module docstring for the rule)."""
    if over.unpriced is not None or base.unpriced is not None:
        return over
    merged = base.model_dump(by_alias=True, exclude_unset=True)
    top = over.model_dump(by_alias=True, exclude_unset=True)
    top.pop("prices", None)
    same_model = base.id.strip().lower() == over.id.strip().lower()
    if same_model:
        names = {name.lower() for name in base.names()}
        extra = [a for a in over.aliases if a.lower() not in names]
        top["aliases"] = [*base.aliases, *extra]
    else:
        top.setdefault("aliases", [])
    merged.update(top)
    merged["prices"] = merge_history(base.prices, over.prices)
    return ModelEntry.model_validate(merged)


def merge_history(base: Sequence[Period], over: Sequence[Period]) -> list[dict[str, Any]]:
    """The price periods of ``over`` laid over those of ``base``, as schema dicts."""
    starts = sorted({p.from_ for p in (*base, *over)}, key=lambda d: d or _BEGINNING)
    periods: list[dict[str, Any]] = []
    for start in starts:
        below, above = period_at(base, start), period_at(over, start)
        if below is None and above is None:
            continue
        sheet = _dump(below) if below is not None else {}
        if above is not None:
            sheet = _merge(sheet, _dump(above))
        sheet.pop("from", None)
        if periods and _without_from(periods[-1]) == sheet:
            continue  # the cut changed nothing: keep one period
        if start is not None:
            sheet = {"from": start, **sheet}
        periods.append(sheet)
    return periods


def period_at(periods: Sequence[Period], moment: datetime | None) -> Period | None:
    """The period in effect at ``moment`` (``None``: the very beginning), if any."""
    found = None
    for period in periods:
        if period.from_ is None or (moment is not None and period.from_ <= moment):
            found = period
        else:
            break
    return found


def _dump(period: Period) -> dict[str, Any]:
    return period.model_dump(by_alias=True, exclude_unset=True)


def _without_from(sheet: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in sheet.items() if key != "from"}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` over ``base``: nested dicts by key, tiers and windows by their key, else over."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            merged[key] = _merge(below, value)
        elif key in _KEYED_LISTS and isinstance(value, list) and isinstance(below, list):
            merged[key] = _merge_items(below, value, _KEYED_LISTS[key])
        else:
            merged[key] = value
    return merged


def _merge_items(
    base: list[dict[str, Any]], over: list[dict[str, Any]], key: str
) -> list[dict[str, Any]]:
    """Items paired by ``key``: a pair merges, an unpaired item on either side is kept."""
    by_key = {item[key]: item for item in base}
    for item in over:
        by_key[item[key]] = _merge(by_key.get(item[key], {}), item)
    items = list(by_key.values())
    if key == "above":
        items.sort(key=lambda item: int(item["above"]))
    return items
