"""Prices of LLM API calls: a built-in database and a fast, exact engine.

Money is ``decimal.Decimal`` throughout and prices are per 1M tokens, the
providers' own unit. The engine covers input, output, cache reads, 5-minute and
1-hour cache writes, prompt-size tiers, batch prices, service tiers (``flex``,
``priority``), non-token units (web searches), peak-hour windows and dated price
changes. See ``_schema.py`` for the data format, ``_providers.py`` and
``_book.py`` for how names resolve, ``_layers.py`` for how the data is merged.

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
- :func:`plan_update`: how community prices merge into the built-in data (an
  :class:`UpdatePlan` of files to write and one :class:`PriceChange` per model;
  the rule is in ``_update.py``); :func:`merge_entry` lays one entry over
  another field by field (``_merge.py``; override files merge that way).
- :func:`import_genai_prices`: a parsed genai-prices ``data.json`` as :class:`PriceFile` objects.
- :func:`compare_prices`: models whose cost differs from another price list
  (``tokenbudget prices diff``), as :class:`CostDiff` rows.
- :class:`OverrideFile`: the document of an override file, several :class:`PriceFile`.
- ``RATE_FIELDS``: the per-1M-token price fields of a price sheet, in display order.
- :func:`reset_default_book`: make the process-wide book read the data again.
- :func:`unregister_models`: forget every ``register_model`` entry (between tests).
"""

from __future__ import annotations

from ._book import PriceBook
from ._community import plan_update
from ._data import default_override_path
from ._data import read_json as parse_price_json
from ._default import (
    calculate_cost,
    get_price,
    list_models,
    register_model,
    reset_default_book,
    unregister_models,
)
from ._diff import MIXES, CostDiff, compare_prices
from ._errors import PriceDataError, UnknownModelError, UnpricedModelError
from ._genai_prices import import_genai_prices
from ._litellm import ImportStats, import_litellm
from ._merge import merge_entry
from ._model import ModelPrice
from ._schema import RATE_FIELDS, ModelEntry, OverrideFile, PriceFile
from ._update import PriceChange, UpdatePlan

__all__ = [
    "MIXES",
    "RATE_FIELDS",
    "CostDiff",
    "ImportStats",
    "ModelEntry",
    "ModelPrice",
    "OverrideFile",
    "PriceBook",
    "PriceChange",
    "PriceDataError",
    "PriceFile",
    "UnknownModelError",
    "UnpricedModelError",
    "UpdatePlan",
    "calculate_cost",
    "compare_prices",
    "default_override_path",
    "get_price",
    "import_genai_prices",
    "import_litellm",
    "list_models",
    "merge_entry",
    "parse_price_json",
    "plan_update",
    "register_model",
    "reset_default_book",
    "unregister_models",
]
