"""Reading genai-prices' ``prices/data.json`` (pydantic/genai-prices) as tokenbudget price files.

Its format: a list of providers (``id``, ``models``); each model has an ``id``
and ``prices``, either one price set or a list of conditional ones (the last
whose constraint holds wins: a ``start_date`` is a dated price change, a
``start_time``/``end_time`` pair a time-of-day window). A price set names
dollars per 1M tokens (``input_mtok``, ``output_mtok``, ``cache_read_mtok``,
``cache_write_mtok``, ``input_audio_mtok``, ``output_audio_mtok``), each a
number or ``{"base": x, "tiers": [{"start": n, "price": y}]}`` (the whole
request at ``y`` when its prompt exceeds ``n`` tokens, as tokenbudget's tiers).

Converted: start dates become price periods, time windows become peak-hour
windows (UTC), tiers become prompt-size tiers. Prices tokenbudget cannot hold
the same way (per-request ``requests_kcount``, cached audio) are left out, and
a model whose prices do not fit (nested conditions) is skipped: this is for
comparing costs (``tokenbudget prices diff``), not a full importer.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ._errors import PriceDataError
from ._schema import ModelEntry, PriceFile

__all__ = ["import_genai_prices", "is_genai_prices"]

_FIELDS = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cached_input",
    "cache_write_mtok": "cache_write",
    "input_audio_mtok": "input_audio",
    "output_audio_mtok": "output_audio",
}
#: genai-prices provider id -> tokenbudget's name (others keep theirs, sanitised).
_PROVIDERS = {"x-ai": "xai", "aws": "bedrock", "moonshotai": "moonshot"}
_SOURCE = "genai-prices data.json"


def is_genai_prices(data: Any) -> bool:
    """Whether parsed JSON looks like genai-prices' ``data.json``."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(p, dict) and "id" in p and "models" in p for p in data)
    )


def import_genai_prices(
    data: Any, *, origin: str, today: date | None = None
) -> tuple[list[PriceFile], int]:
    """Provider files from a parsed genai-prices ``data.json``, and how many models were skipped."""
    if not is_genai_prices(data):
        raise PriceDataError(f"{origin}: not a genai-prices data file", path=origin)
    checked = today or date.today()
    files: list[PriceFile] = []
    skipped = 0
    for provider in data:
        name = _provider_name(str(provider["id"]))
        models: dict[str, ModelEntry] = {}
        for model in provider.get("models") or ():
            entry = _entry(model, origin, checked)
            if entry is None or entry.id.lower() in models:
                skipped += 1
                continue
            models[entry.id.lower()] = entry
        if models:
            url = (provider.get("pricing_urls") or [_SOURCE])[0]
            files.append(
                PriceFile(
                    provider=name,
                    name=str(provider.get("name") or name),
                    pricing_url=str(url),
                    models=list(models.values()),
                )
            )
    return files, skipped


def _provider_name(name: str) -> str:
    if name in _PROVIDERS:
        return _PROVIDERS[name]
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or "unknown"


def _entry(model: Any, origin: str, checked: date) -> ModelEntry | None:
    if not isinstance(model, dict) or not isinstance(model.get("id"), str):
        return None
    periods = _periods(model.get("prices"))
    if not periods:
        return None
    raw: dict[str, Any] = {
        "id": model["id"],
        "source": f"{_SOURCE} ({origin})",
        "checked": checked,
        "prices": periods,
    }
    window = model.get("context_window")
    if isinstance(window, int) and window > 0:
        raw["context_window"] = window
    try:
        return ModelEntry.model_validate(raw)
    except ValidationError:
        return None


def _periods(prices: Any) -> list[dict[str, Any]] | None:
    """tokenbudget price periods for a model's ``prices``; ``None`` when they do not fit."""
    if isinstance(prices, dict):
        sheet = _sheet(prices)
        return [sheet] if sheet else None
    if not isinstance(prices, list) or not prices:
        return None
    periods: list[dict[str, Any]] = []
    windows: list[dict[str, Any]] = []
    for conditional in prices:
        constraint = conditional.get("constraint") or {}
        sheet = _sheet(conditional.get("prices"))
        if sheet is None:
            return None
        if not constraint:
            if periods:
                return None  # an unconditional price after others: not a history
            periods.append(sheet)
        elif set(constraint) == {"start_date"} and periods:
            periods.append({"from": constraint["start_date"], **sheet})
        elif set(constraint) == {"start_time", "end_time"} and len(periods) == 1:
            span = f"{_hhmm(constraint['start_time'])}-{_hhmm(constraint['end_time'])}"
            windows.append({"utc": span, **sheet})
        else:
            return None
    if windows:
        if len(periods) != 1:
            return None
        periods[0]["windows"] = windows
    return periods


def _hhmm(text: Any) -> str:
    return str(text)[:5]


def _sheet(prices: Any) -> dict[str, Any] | None:
    if not isinstance(prices, dict):
        return None
    sheet: dict[str, Any] = {}
    tiers: dict[int, dict[str, Decimal]] = {}
    for key, name in _FIELDS.items():
        value = prices.get(key)
        if isinstance(value, dict):
            sheet[name] = _decimal(value.get("base"))
            for tier in value.get("tiers") or ():
                tiers.setdefault(int(tier["start"]), {})[name] = _decimal(tier["price"])
        elif value is not None:
            sheet[name] = _decimal(value)
    if "input" not in sheet:
        return None
    sheet.setdefault("output", Decimal(0))  # embeddings: genai-prices names no output price
    if tiers:
        sheet["tiers"] = [{"above": above, **tiers[above]} for above in sorted(tiers)]
    return sheet


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)
