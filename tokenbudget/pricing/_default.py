"""The functions on the process-wide book, and the ``register_model`` registry.

``get_price``, ``calculate_cost`` and ``list_models`` read the process-wide
book (:meth:`PriceBook.default`); ``register_model`` adds to the registry that
every book of the process sees, ``unregister_models`` empties it, and
``reset_default_book`` makes the process-wide book read its data again.
Unlike :meth:`PriceBook.cost`, which returns ``None`` for a model it cannot
price, these raise :class:`UnknownModelError` naming the close matches.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .._data import check_usage, make_usage, units_mapping
from ._book import PriceBook
from ._errors import UnknownModelError, UnpricedModelError
from ._model import ModelPrice
from ._providers import canonical_provider
from ._registry import REGISTRY, entry_from_prices

__all__ = [
    "calculate_cost",
    "get_price",
    "list_models",
    "register_model",
    "reset_default_book",
    "unregister_models",
]


def get_price(model: str, provider: str | None = None, *, at: datetime | None = None) -> ModelPrice:
    """The prices of ``model`` (at ``provider``, else at its maker) in the default book.

    A dated alias (``mistral-large-latest``) gives the model it means at ``at``
    (default now). Raises :class:`UnknownModelError` (naming close matches) for an unknown
    model, and :class:`UnpricedModelError` for a model with no published price.
    """
    return _require(PriceBook.default(), model, provider, at)


def _require(
    book: PriceBook, model: str, provider: str | None, at: datetime | None = None
) -> ModelPrice:
    price = book.resolve(model, provider, at=at)
    if price is None:
        raise UnknownModelError(model, provider, book.suggestions(model, provider))
    if price.unpriced is not None:
        raise UnpricedModelError(price.model, price.provider, price.unpriced)
    return price


def calculate_cost(
    model: str,
    input_tokens: int = 0,
    output_tokens: int = 0,
    *,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    reasoning_tokens: int = 0,
    audio_input_tokens: int = 0,
    audio_output_tokens: int = 0,
    image_input_tokens: int = 0,
    image_output_tokens: int = 0,
    units: Mapping[str, int] | None = None,
    provider: str | None = None,
    service_tier: str | None = None,
    batch: bool = False,
    at: datetime | None = None,
    extra: Mapping[str, int] | None = None,
) -> Decimal:
    """Dollars for one call, with the conventions of :class:`~tokenbudget.Usage`.

    ``input_tokens`` includes cache reads and writes, and audio and image input;
    ``output_tokens`` includes reasoning and audio and image output. The part
    counts matter only where the model prices them apart (``gpt-4o-audio-preview``
    audio, Perplexity deep-research reasoning); elsewhere they are informational
    and never added again. ``units`` are per-unit billables by the price data's
    unit names, e.g. ``{"web_search_requests": 3}`` or ``{"requests_high": 1}``
    (the README lists them); ``extra`` is the older name of ``units``
    (deprecated; giving both raises ``TypeError``).
    ``service_tier`` is the tier the call was served at (``"flex"``,
    ``"priority"``, ``"fast"``...), case-insensitive; provider spellings fold
    together (``"SERVICE_TIER_FLEX"``, ``"ON_DEMAND_FLEX"`` are ``"flex"``) and
    ``"default"``, ``"auto"``, ``"standard"``, ``"on_demand"`` mean standard.
    ``batch=True`` prices the Batch API; ``service_tier="batch"`` (as Anthropic
    reports batch results) means the same, and batch wins over any other tier. A
    tier the model has no price for is billed at the standard price. Tracking
    prices a call by this same rule, with the tier its answer reports, else the
    one its request asked for.
    ``at`` (default now) picks the price period, and the model a dated alias
    such as ``mistral-large-latest`` means on that date.
    Raises :class:`UnknownModelError` for a model without a price, and
    ``TypeError`` / ``ValueError`` for a count that is not an int from 0 to
    1,000,000,000.
    """
    if extra is not None:
        warnings.warn(
            "calculate_cost(extra=...) is deprecated: pass units=...",
            DeprecationWarning,
            stacklevel=2,
        )
    usage = make_usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached_input_tokens,
        cache_write_tokens=cache_write_tokens,
        cache_write_1h_tokens=cache_write_1h_tokens,
        reasoning_tokens=reasoning_tokens,
        audio_input_tokens=audio_input_tokens,
        audio_output_tokens=audio_output_tokens,
        image_input_tokens=image_input_tokens,
        image_output_tokens=image_output_tokens,
        extra=units_mapping(units, extra),
    )
    check_usage(usage)
    price = _require(PriceBook.default(), model, provider, at)
    cost = price.cost(usage, service_tier=service_tier, batch=batch, at=at)
    assert cost is not None  # _require rejected unpriced models
    return cost


def register_model(
    model: str,
    input_per_1k: float | Decimal | str | None = None,
    output_per_1k: float | Decimal | str | None = None,
    provider: str | None = None,
    **prices: Any,
) -> ModelPrice:
    """Add or replace a model's prices for every book in this process.

    Registered prices win over the override file and the built-in data. Give
    per-1k prices as in tokenbudget 0.1, or per-1M ones (``input_per_1m``,
    ``output_per_1m``, ``cached_input_per_1m``, ``cache_write_per_1m``,
    ``cache_write_1h_per_1m``), or the data schema's keys (``tiers``, ``batch``,
    ``service_tiers``, ``extra`` per-unit prices, ``input_audio``,
    ``output_audio``, ``input_image``, ``output_image``, ``reasoning``).
    ``provider=None`` (or ``"custom"``) applies to whatever provider serves the
    model, including OpenAI-compatible hosts.
    :func:`unregister_models` takes every registration back.
    """
    entry = entry_from_prices(
        model, {"input_per_1k": input_per_1k, "output_per_1k": output_per_1k, **prices}
    )
    canonical = canonical_provider(provider)
    REGISTRY.add(canonical, entry)
    found = PriceBook.default().resolve(model, canonical)
    assert found is not None
    return found


def unregister_models() -> None:
    """Forget every :func:`register_model` entry, for every book in this process.

    Books price those models from the override file and the built-in data again
    (or not at all); what a book registered itself with :meth:`PriceBook.register`
    stays. Test suites call it between tests, so no registration leaks.
    """
    REGISTRY.clear()


def list_models(provider: str | None = None) -> dict[str, ModelPrice]:
    """Every model of the default book (of one provider when given), by name."""
    return PriceBook.default().models(provider)


def reset_default_book() -> None:
    """Forget the process-wide book: the next :meth:`PriceBook.default` loads it again.

    Call it after writing the override file, so that ``get_price``,
    ``calculate_cost`` and new trackers see the new prices; ``register_model``
    entries are kept.
    """
    PriceBook._reset_default()
