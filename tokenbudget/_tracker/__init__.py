"""The facade: ``TokenTracker``, the process-wide default tracker, patching and tags.

The tracker is the composition root: it builds each call's ports from its
ledger, prices, budgets and cache (``_tracker``); users read results
(``_results``), build tracked clients (``_clients``) and query history
(``_history``) through it. ``patch_all`` puts a tracker under every httpx
client built afterwards (``_patching``).
"""

from __future__ import annotations

from .._adapters import FamilyConflict
from ._google_patch import patch_google, unpatch_google
from ._patching import is_patched, patch_all, patched, unpatch_all
from ._prices import PriceSource, TrackerPrices
from ._tags import current_tags, tag
from ._tracker import TokenTracker, get_tracker

__all__ = [
    "FamilyConflict",
    "PriceSource",
    "TokenTracker",
    "TrackerPrices",
    "current_tags",
    "get_tracker",
    "is_patched",
    "patch_all",
    "patch_google",
    "patched",
    "tag",
    "unpatch_all",
    "unpatch_google",
]
