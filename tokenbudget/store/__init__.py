"""Usage history that survives restarts: the store interface and its SQLite implementation.

>>> tracker = TokenTracker(store="usage.db")        # doctest: +SKIP
>>> tracker.usage_since(timedelta(days=7))           # doctest: +SKIP

Layout::

    Ledger                  every call of a tracker in memory: exact totals, recent records
    UsageStore (ABC)        append / summary / breakdown / records / reprice / close
      └─ SQLiteStore        one file, WAL, several processes on one machine
    StoreWriter             a background thread putting queued records into a store
    open_store(spec)        "usage.db", "sqlite:///path" -> a store; unknown scheme: ValueError
    Query                   time range, provider, model, tags
"""

from __future__ import annotations

from ._base import StoreError, UsageAggregates, UsageStore
from ._codec import record_from_dict, record_to_dict
from ._ledger import DEFAULT_MAX_RECORDS, Ledger, RecordCallback
from ._open import StoreSpec, open_store, register_scheme
from ._query import Query
from ._reprice import ModelChange, RepriceResult
from ._sqlite import SQLiteStore
from ._writer import StoreWriter

__all__ = [
    "DEFAULT_MAX_RECORDS",
    "Ledger",
    "ModelChange",
    "Query",
    "RecordCallback",
    "RepriceResult",
    "SQLiteStore",
    "StoreError",
    "StoreSpec",
    "StoreWriter",
    "UsageAggregates",
    "UsageStore",
    "open_store",
    "record_from_dict",
    "record_to_dict",
    "register_scheme",
]
