"""tokenbudget: track tokens and cost of every LLM API call, at the httpx transport.

>>> from tokenbudget import TokenTracker
>>> tracker = TokenTracker()
>>> client = openai.OpenAI(http_client=tracker.httpx_client())  # doctest: +SKIP
>>> print(tracker.usage)  # doctest: +SKIP

What is exported: this top level holds what an application needs day to day
(the tracker and its results, budgets, cache controls, prices, reports) and
every exception a user is expected to catch (budget refusals, price and store
errors); they show ``tokenbudget`` as their ``__module__``. Each public
subpackage (``budgets``, ``cache``, ``pricing``, ``providers``, ``store``,
``redis``, ``reports``, ``testing``, ``pytest_plugin``, ``cli``) lists its
whole API in its ``__all__``: interfaces to implement and building blocks for
integrations. A name in no ``__all__`` is private, however it is spelled, and
so is every module or package whose name starts with an underscore.
"""

from __future__ import annotations

from ._data import (
    BudgetExceeded,
    BudgetWarning,
    CallRecord,
    TokenBudgetError,
    TokenLimitReached,
    Usage,
    UsageSummary,
)
from ._tracker import (
    FamilyConflict,
    TokenTracker,
    current_tags,
    get_tracker,
    is_patched,
    patch_all,
    patched,
    tag,
    unpatch_all,
)
from ._version import __version__
from .budgets import Budget, budget, budget_refusal, context_executor, current_budget, in_context
from .cache import CacheStats, no_cache, refresh_cache
from .pricing import (
    ModelPrice,
    PriceBook,
    PriceDataError,
    UnknownModelError,
    calculate_cost,
    get_price,
    list_models,
    register_model,
)
from .reports import export_csv, export_html, export_json, generate_table_report
from .store import RepriceResult, StoreError

__all__ = [
    "Budget",
    "BudgetExceeded",
    "BudgetWarning",
    "CacheStats",
    "CallRecord",
    "FamilyConflict",
    "ModelPrice",
    "PriceBook",
    "PriceDataError",
    "RepriceResult",
    "StoreError",
    "TokenTracker",
    "TokenBudgetError",
    "TokenLimitReached",
    "UnknownModelError",
    "Usage",
    "UsageSummary",
    "__version__",
    "budget",
    "budget_refusal",
    "calculate_cost",
    "context_executor",
    "current_budget",
    "current_tags",
    "export_csv",
    "export_html",
    "export_json",
    "generate_table_report",
    "get_price",
    "get_tracker",
    "in_context",
    "is_patched",
    "list_models",
    "no_cache",
    "patch_all",
    "patched",
    "refresh_cache",
    "register_model",
    "tag",
    "unpatch_all",
]

# Exported classes and functions say where users import them from (reprs, docs,
# pickles): tokenbudget.Usage, not tokenbudget._data._usage.Usage.
for _name in __all__:
    if not _name.startswith("__"):
        globals()[_name].__module__ = __name__
del _name
