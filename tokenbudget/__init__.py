"""tokenbudget: track tokens and cost of every LLM API call, at the httpx transport.

>>> from tokenbudget import TokenTracker
>>> tracker = TokenTracker()
>>> client = openai.OpenAI(http_client=tracker.httpx_client())  # doctest: +SKIP
>>> print(tracker.usage)  # doctest: +SKIP
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
    TokenTracker,
    current_tags,
    get_tracker,
    is_patched,
    patch_all,
    patched,
    tag,
    unpatch_all,
)
from .budgets import Budget, budget, context_executor, current_budget, in_context
from .cache import CacheStats, no_cache, refresh_cache
from .pricing import (
    ModelPrice,
    PriceBook,
    UnknownModelError,
    calculate_cost,
    get_price,
    list_models,
    register_model,
)
from .reports import export_csv, export_html, export_json, generate_table_report
from .store import RepriceResult, StoreError

__version__ = "0.1.0"

__all__ = [
    "Budget",
    "BudgetExceeded",
    "BudgetWarning",
    "CacheStats",
    "CallRecord",
    "ModelPrice",
    "PriceBook",
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
