"""Import of LiteLLM's community ``model_prices_and_context_window.json``.

LiteLLM keys models by route (``gemini/gemini-2.5-pro``, ``groq/llama-...``) and
prices per token as JSON numbers. This module converts every token-priced entry
into tokenbudget's schema: prices per 1M tokens as exact Decimals (the JSON is
parsed with ``parse_float=Decimal``, so ``2.5e-06`` becomes exactly ``2.5``),
``*_above_Nk_tokens`` fields into prompt-size tiers, ``*_batches`` into batch
prices, ``*_flex`` / ``*_priority`` into service tiers. Entries priced per
second, per image or per character only are skipped, as are entries that fail
validation; :class:`ImportStats` says how many.

When several LiteLLM routes give the same model of one tokenbudget provider
(``mistral/codestral-latest`` and ``codestral/codestral-latest``, ``azure/x``
and ``azure_ai/x``), the provider's own route wins: the route listed first for
that provider in ``_PROVIDERS`` (``mistral``, ``azure``, ``openai``, ``gemini``,
...), then the other listed routes in their order, then any other route; among
entries of equal rank the first in the file wins. The others count as
``skipped_duplicate``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ._errors import PriceDataError
from ._schema import ModelEntry, PriceFile

__all__ = [
    "ImportStats",
    "convert_litellm",
    "import_litellm",
    "litellm_provider",
    "route_rank",
]

_SOURCE = "litellm model_prices_and_context_window.json"
_MILLION = Decimal(1_000_000)

#: LiteLLM provider -> tokenbudget provider (others keep their own, sanitised, name).
_PROVIDERS = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "chatgpt": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai": "vertex",
    "azure": "azure",
    "azure_text": "azure",
    "azure_ai": "azure",
    "groq": "groq",
    "deepseek": "deepseek",
    "mistral": "mistral",
    "codestral": "mistral",
    "text-completion-codestral": "mistral",
    "xai": "xai",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "fireworks_ai-embedding-models": "fireworks",
    "perplexity": "perplexity",
    "openrouter": "openrouter",
    "cohere_chat": "cohere",
    "bedrock_converse": "bedrock",
}
_FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "input_cost_per_audio_token": "input_audio",
    "output_cost_per_audio_token": "output_audio",
    "input_cost_per_image_token": "input_image",
    "output_cost_per_image_token": "output_image",
    "output_cost_per_reasoning_token": "reasoning",
}
#: tokenbudget provider -> its own LiteLLM route: the first one listed for it above.
_OWN_ROUTE: dict[str, str] = {}
for _route, _provider in _PROVIDERS.items():
    _OWN_ROUTE.setdefault(_provider, _route)
_LISTED = {route: rank for rank, route in enumerate(_PROVIDERS, start=1)}
_KEY = re.compile(
    r"^(?P<base>" + "|".join(sorted(map(re.escape, _FIELDS), key=len, reverse=True)) + r")"
    r"(?:_above_(?P<k>\d+)k_tokens)?(?:_(?P<variant>batches|flex|priority))?$"
)
_PER_UNIT_ONLY = frozenset({"embedding", "rerank", "moderation", "moderations"})


@dataclass
class ImportStats:
    """What an import kept and skipped."""

    imported: int = 0
    skipped_unpriced: int = 0
    skipped_invalid: int = 0
    skipped_duplicate: int = 0
    providers: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def litellm_provider(name: str) -> str:
    """tokenbudget's name for a LiteLLM provider (``gemini`` -> ``google``)."""
    if name in _PROVIDERS:
        return _PROVIDERS[name]
    if name.startswith("vertex_ai"):
        return "vertex"
    if name.startswith("bedrock"):
        return "bedrock"
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-")
    return cleaned or "unknown"


def route_rank(route: str) -> int:
    """How strongly a LiteLLM route speaks for its provider: lower wins (0: its own route)."""
    provider = litellm_provider(route)
    if _OWN_ROUTE.get(provider) == route:
        return 0
    return _LISTED.get(route, len(_LISTED) + 1)


def _model_id(key: str, route: str) -> str:
    """Strip LiteLLM's route prefix: ``groq/llama-3`` -> ``llama-3``."""
    head, sep, rest = key.partition("/")
    if sep and rest and (head == route or head in _PROVIDERS or head.startswith(route)):
        return rest
    return key


def _per_million(value: Any) -> Decimal | None:
    if isinstance(value, float):
        value = Decimal(repr(value))  # JSON parsed without parse_float=Decimal
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    scaled = (Decimal(value) * _MILLION).normalize()
    return scaled.quantize(Decimal(1)) if scaled == scaled.to_integral() else scaled


def _sheets(spec: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    """Per variant (None = standard), the flat prices and tier prices of an entry."""
    sheets: dict[str | None, dict[str, Any]] = {}
    for key, value in spec.items():
        match = _KEY.match(key)
        if not match:
            continue
        price = _per_million(value)
        if price is None:
            continue
        sheet = sheets.setdefault(match["variant"], {})
        name = _FIELDS[match["base"]]
        if match["k"]:
            tiers = sheet.setdefault("tiers", {})
            tiers.setdefault(int(match["k"]) * 1000, {})[name] = price
        else:
            sheet[name] = price
    for sheet in sheets.values():
        tiers = sheet.pop("tiers", {})
        kept = []
        for above in sorted(tiers):
            prices = {k: v for k, v in tiers[above].items() if k in sheet}
            if prices:
                kept.append({"above": above, **prices})
        if kept:
            sheet["tiers"] = kept
    return sheets


def _per_request(search: Any, provider: str) -> dict[str, Decimal]:
    """Per-unit prices of LiteLLM's ``search_context_cost_per_query`` (dollars per unit).

    Perplexity bills every request by its search context size (the units
    ``requests_low`` ... its reader counts); other hosts bill each web search,
    at the medium size LiteLLM assumes by default.
    """
    if not isinstance(search, dict):
        return {}
    sizes = ("low", "medium", "high") if provider == "perplexity" else ("medium",)
    out: dict[str, Decimal] = {}
    for size in sizes:
        price = _per_million(search.get(f"search_context_size_{size}"))
        if price is not None:
            unit = f"requests_{size}" if provider == "perplexity" else "web_search_requests"
            out[unit] = price / _MILLION
    return out


def _entry(
    model_id: str, spec: dict[str, Any], origin: str, today: date, provider: str = ""
) -> dict[str, Any] | None:
    sheets = _sheets(spec)
    period = sheets.pop(None, {})
    if "input" not in period:
        return None
    if "output" not in period:
        if spec.get("mode") not in _PER_UNIT_ONLY:
            return None
        period["output"] = Decimal(0)
    extra = _per_request(spec.get("search_context_cost_per_query"), provider)
    if extra:
        period["extra"] = extra
    if "batches" in sheets:
        period["batch"] = sheets.pop("batches")
    if sheets:
        period["service_tiers"] = {name: sheet for name, sheet in sheets.items() if name}
    entry: dict[str, Any] = {
        "id": model_id,
        "source": f"{_SOURCE} ({origin})",
        "checked": today,
        "prices": [period],
    }
    context = spec.get("max_input_tokens")
    if isinstance(context, int) and not isinstance(context, bool) and context > 0:
        entry["context_window"] = context
    deprecation = spec.get("deprecation_date")
    if isinstance(deprecation, str):
        with contextlib.suppress(ValueError):
            entry["deprecated"] = date.fromisoformat(deprecation) <= today
    return entry


def import_litellm(
    data: Any, *, origin: str, today: date | None = None
) -> tuple[list[PriceFile], ImportStats]:
    """Convert a parsed LiteLLM price JSON into provider files, with statistics."""
    if not isinstance(data, dict):
        raise PriceDataError(
            f"{origin}: not a LiteLLM price file (expected a JSON object of models)", path=origin
        )
    today = today or date.today()
    stats = ImportStats()
    models: dict[str, dict[str, tuple[int, ModelEntry]]] = {}
    for key, spec in data.items():
        if key == "sample_spec" or not isinstance(spec, dict):
            continue
        route = spec.get("litellm_provider")
        if not isinstance(route, str):
            stats.skipped_unpriced += 1
            continue
        provider = litellm_provider(route)
        model_id = _model_id(key, route)
        raw = _entry(model_id, spec, f"{origin}: {key}", today, provider)
        if raw is None:
            stats.skipped_unpriced += 1
            continue
        bucket = models.setdefault(provider, {})
        rank = route_rank(route)
        held = bucket.get(model_id.lower())
        if held is not None and held[0] <= rank:
            stats.skipped_duplicate += 1
            continue
        try:
            entry = ModelEntry.model_validate(raw)
        except ValidationError as exc:
            stats.skipped_invalid += 1
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            stats.problems.append(f"{key}: field {where}: {first['msg']}")
            continue
        if held is not None:
            stats.skipped_duplicate += 1  # the entry it displaces
        else:
            stats.imported += 1
        bucket[model_id.lower()] = (rank, entry)
    files = []
    for provider in sorted(models):
        entries = [entry for _, entry in models[provider].values()]
        stats.providers[provider] = len(entries)
        files.append(
            PriceFile(
                provider=provider,
                name=provider,
                pricing_url=_SOURCE,
                models=entries,
            )
        )
    if not files:
        raise PriceDataError(
            f"{origin}: no token-priced models found (is it a LiteLLM price file?)", path=origin
        )
    return files, stats


def convert_litellm(
    data: Any, *, origin: str, builtin: Callable[[str], PriceFile | None] | None = None
) -> list[PriceFile]:
    """A parsed LiteLLM price JSON as provider files.

    With ``builtin`` (the built-in data by provider), planned like ``prices
    update`` plans it (``_update.py``: stale and scheduled prices kept out,
    current prices from today on), so pointing ``$TOKENBUDGET_PRICES`` at
    LiteLLM's file and running ``prices update`` give the same prices.
    """
    files = import_litellm(data, origin=origin)[0]
    if builtin is None:
        return files
    from ._update import plan_merge

    return plan_merge(files, builtin).files
