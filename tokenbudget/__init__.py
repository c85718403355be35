"""tokenbudget: track tokens and cost of every LLM API call, at the httpx transport.

>>> from tokenbudget import TokenTracker
>>> tracker = TokenTracker()
>>> client = openai.OpenAI(http_client=tracker.httpx_client())  # doctest: +SKIP
>>> print(tracker.usage)  # doctest: +SKIP
"""

from __future__ import annotations

from ._patching import is_patched, patch_all, patched, unpatch_all
from ._records import CallRecord
from ._summary import UsageSummary
from ._tags import current_tags, tag
from ._tracker import TokenTracker, get_tracker
from ._usage import Usage
from .pricing import (
    ModelPrice,
    PriceBook,
    UnknownModelError,
    calculate_cost,
    get_price,
    list_models,
    register_model,
)

__version__ = "0.1.0"

__all__ = [
    "CallRecord",
    "ModelPrice",
    "PriceBook",
    "TokenTracker",
    "UnknownModelError",
    "Usage",
    "UsageSummary",
    "__version__",
    "calculate_cost",
    "current_tags",
    "get_price",
    "get_tracker",
    "is_patched",
    "list_models",
    "patch_all",
    "patched",
    "register_model",
    "tag",
    "unpatch_all",
]
