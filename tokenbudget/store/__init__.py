"""Usage history that survives restarts: the ledger, the store interface, SQLite, and their parts.

>>> tracker = TokenTracker(store="usage.db")        # doctest: +SKIP
>>> tracker.usage_since(timedelta(days=7))           # doctest: +SKIP

Layout::

    Ledger                  every call of a tracker in memory: exact totals, recent records
    UsageStore (ABC)        append / summary / breakdown / records / reprice / close
      ├─ SQLiteStore        one file, WAL, several processes on one machine
      └─ PostgresStore      a PostgreSQL database, many processes and machines
    StoreWriter             a background thread putting queued records into a store
    open_store(spec)        "usage.db", "sqlite:///path", "postgresql://...", "redis://..."
    register_scheme         another URL scheme (tokenbudget.redis registers redis://)
    Query                   time range, provider, model, tags

Building blocks for stores and reports of your own (``tokenbudget.redis`` and
``tokenbudget.reports`` use them): records and summaries as JSON-friendly dicts
(:func:`record_to_dict`, :func:`summary_to_dict` and their inverses), exact
money and UTC time as text (:func:`decimal_or_none`, :func:`format_time`,
:func:`parse_time`, :func:`to_utc`, :func:`utc_day`), and summary arithmetic
and grouping (:func:`add_summaries`, :func:`summarize`, :func:`group_records`...),
and private files and folders (:func:`create_private_file`, :func:`make_private_dirs`:
0600 and 0700, what tokenbudget gives everything it creates).
"""

from __future__ import annotations

from ._base import StoreError, UsageAggregates, UsageStore
from ._codec import (
    TOKEN_FIELDS,
    decimal_or_none,
    format_time,
    parse_time,
    record_from_dict,
    record_to_dict,
    usage_from_figures,
)
from ._files import create_private_file, make_private_dirs
from ._ledger import (
    DEFAULT_MAX_RECORDS,
    DEFAULT_MAX_TAG_VALUES,
    OTHER_TAG_VALUE,
    Ledger,
    RecordCallback,
)
from ._open import StoreFactory, StoreSpec, open_store, register_scheme
from ._postgres import PostgresStore
from ._query import GROUPINGS, Query, TimeLike, check_grouping, to_utc, utc_day
from ._reprice import ModelChange, Pricer, RepriceResult
from ._sqlite import SQLiteStore
from ._totals import (
    SUMMARY_FIELDS,
    add_summaries,
    group_key,
    group_records,
    subtract_summaries,
    summarize,
    summary_from_dict,
    summary_to_dict,
    totals_from_summary,
)
from ._writer import StoreWriter

__all__ = [
    "DEFAULT_MAX_RECORDS",
    "DEFAULT_MAX_TAG_VALUES",
    "GROUPINGS",
    "SUMMARY_FIELDS",
    "TOKEN_FIELDS",
    "Ledger",
    "ModelChange",
    "OTHER_TAG_VALUE",
    "PostgresStore",
    "Pricer",
    "Query",
    "RecordCallback",
    "RepriceResult",
    "SQLiteStore",
    "StoreError",
    "StoreFactory",
    "StoreSpec",
    "StoreWriter",
    "TimeLike",
    "UsageAggregates",
    "UsageStore",
    "add_summaries",
    "check_grouping",
    "create_private_file",
    "decimal_or_none",
    "format_time",
    "group_key",
    "group_records",
    "make_private_dirs",
    "open_store",
    "parse_time",
    "record_from_dict",
    "record_to_dict",
    "register_scheme",
    "subtract_summaries",
    "summarize",
    "summary_from_dict",
    "summary_to_dict",
    "to_utc",
    "totals_from_summary",
    "usage_from_figures",
    "utc_day",
]
