"""Reports: where the money went, as a table, CSV, JSON or a one-file HTML page.

>>> from tokenbudget.reports import generate_table_report, export_csv
>>> print(generate_table_report(tracker, by="model"))            # doctest: +SKIP
>>> export_csv(tracker, "usage.csv", since=timedelta(days=7))     # doctest: +SKIP

Every function takes a tracker (any object with a ``usage_source()`` method
returning a :class:`UsageSource`), a :class:`~tokenbudget.store.UsageStore` or
call records, and optional filters (``start``, ``end`` or ``since``,
``provider``, ``model``, ``tags``). Files are written atomically (a temporary
file renamed into place) and hold no prompt, reply, header or API key: call
records have none.
"""

from __future__ import annotations

from ._api import (
    export_csv,
    export_html,
    export_json,
    generate_html_report,
    generate_table_report,
)
from ._atomic import atomic_text
from ._csv import CSV_COLUMNS, write_csv
from ._format import clean, display_width, human_tokens, pad, usd
from ._json import SCHEMA_VERSION as JSON_SCHEMA_VERSION
from ._json import JsonExport, read_json, write_json
from ._load import ReportError, open_source, read_csv_export, read_json_export
from ._source import RecordsSource, StoreSource, TrackerSource, UsageSource, as_source, make_query

__all__ = [
    "CSV_COLUMNS",
    "JSON_SCHEMA_VERSION",
    "JsonExport",
    "RecordsSource",
    "ReportError",
    "StoreSource",
    "TrackerSource",
    "UsageSource",
    "as_source",
    "atomic_text",
    "clean",
    "display_width",
    "export_csv",
    "export_html",
    "export_json",
    "generate_html_report",
    "generate_table_report",
    "human_tokens",
    "make_query",
    "open_source",
    "pad",
    "read_csv_export",
    "read_json",
    "read_json_export",
    "usd",
    "write_csv",
    "write_json",
]
