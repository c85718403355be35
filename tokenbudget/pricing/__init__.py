"""Prices of LLM API calls: a built-in database and a fast, exact engine.

Money is ``decimal.Decimal`` throughout and prices are per 1M tokens, the
providers' own unit. The engine covers input, output, cache reads, 5-minute and
1-hour cache writes, prompt-size tiers, batch prices, service tiers (``flex``,
``priority``), non-token units (web searches), peak-hour windows and dated price
changes. See ``_schema.py`` for the data format and ``_book.py`` for how names
resolve.

Precedence: ``register_model`` > override file (``$TOKENBUDGET_PRICES``, else
``~/.config/tokenbudget/prices.json``; ``tokenbudget prices update`` writes it) >
built-in data.

Unpriced calls: a model the data does not know, or whose provider publishes no
price, costs ``None`` (``PriceBook.cost``) and is recorded as *unpriced*; its
tokens still count. ``calculate_cost`` and ``get_price`` raise
:class:`UnknownModelError` instead. Because an unpriced call's cost cannot be
bounded, a ``max_cost_usd`` budget should fail closed: refuse it before it is
sent (``PriceBook.resolve`` tells, once per name, with no network) unless the
budget explicitly allows unpriced calls, which are then counted, never priced
at zero.

Price files, for tools that write them (``tokenbudget prices update``):

- :func:`default_override_path`: where the override file is looked for and written.
- :func:`parse_price_json`: JSON text to Python, every price an exact ``Decimal``;
  raises :class:`PriceDataError` naming the file.
- :func:`import_litellm`: a parsed LiteLLM ``model_prices_and_context_window.json``
  as :class:`PriceFile` objects, with :class:`ImportStats` (what was kept, what skipped).
- :class:`OverrideFile`: the document of an override file, several :class:`PriceFile`.
- ``RATE_FIELDS``: the per-1M-token price fields of a price sheet, in display order.
- :func:`reset_default_book`: make the process-wide book read the data again.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .._data import Usage as _Usage
from ._book import REGISTRY as _REGISTRY
from ._book import PriceBook
from ._book import canonical_provider as _canonical_provider
from ._data import default_override_path
from ._data import read_json as parse_price_json
from ._errors import PriceDataError, UnknownModelError, UnpricedModelError
from ._litellm import ImportStats, import_litellm
from ._model import ModelPrice
from ._registry import entry_from_prices as _entry_from_prices
from ._schema import RATE_FIELDS, OverrideFile, PriceFile

__all__ = [
    "RATE_FIELDS",
    "ImportStats",
    "ModelPrice",
    "OverrideFile",
    "PriceBook",
    "PriceDataError",
    "PriceFile",
    "UnknownModelError",
    "UnpricedModelError",
    "calculate_cost",
    "default_override_path",
    "get_price",
    "import_litellm",
    "list_models",
    "parse_price_json",
    "register_model",
    "reset_default_book",
]


def get_price(model: str, provider: str | None = None) -> ModelPrice:
    """The prices of ``model`` (at ``provider``, else at its maker) in the default book.

    Raises :class:`UnknownModelError` (naming close matches) for an unknown
    model, and :class:`UnpricedModelError` for a model with no published price.
    """
    return _require(PriceBook.default(), model, provider)


def _require(book: PriceBook, model: str, provider: str | None) -> ModelPrice:
    price = book.resolve(model, provider)
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
    provider: str | None = None,
    service_tier: str | None = None,
    batch: bool = False,
    at: datetime | None = None,
    extra: dict[str, int] | None = None,
) -> Decimal:
    """Dollars for one call, with the conventions of :class:`~tokenbudget.Usage`.

    ``input_tokens`` includes cache reads and writes; ``output_tokens`` includes
    reasoning, so ``reasoning_tokens`` is informational and never added again.
    Raises :class:`UnknownModelError` for a model without a price.
    """
    price = _require(PriceBook.default(), model, provider)
    usage = _Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached_input_tokens,
        cache_write_tokens=cache_write_tokens,
        cache_write_1h_tokens=cache_write_1h_tokens,
        reasoning_tokens=reasoning_tokens,
        extra=extra or {},
    )
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
    ``service_tiers``, ``extra``). ``provider=None`` (or ``"custom"``) applies
    to whatever provider serves the model, including OpenAI-compatible hosts.
    """
    entry = _entry_from_prices(
        model, {"input_per_1k": input_per_1k, "output_per_1k": output_per_1k, **prices}
    )
    canonical = _canonical_provider(provider)
    _REGISTRY.add(canonical, entry)
    found = PriceBook.default().resolve(model, canonical)
    assert found is not None
    return found


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
