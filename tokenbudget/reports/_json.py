"""JSON export: the calls, their summary and breakdowns, in one versioned document.

Shape (``schema_version`` 1)::

    {
      "schema_version": 1,
      "generator": "tokenbudget 0.1.0",
      "exported_at": "2026-01-02T03:04:05.000000Z",
      "source": "memory" | "sqlite:///path/usage.db" | ...,
      "query": {"start": ..., "end": ..., "provider": ..., "model": ..., "tags": {}},
      "calls": [ {record}, ... ],                  # tokenbudget.store.record_to_dict
      "summary": {"calls": 3, "cost_usd": "0.0042", ...},
      "breakdowns": {"provider": {...}, "model": {...}, "day": {...}, "tag": {...}}
    }

Money is always an exact decimal string. ``summary`` and ``breakdowns`` are
computed from exactly the ``calls`` in the file (written after them, in one pass
over the source), so a reader can check one against the other. Each call keeps
the provider's raw usage object and the price data version; no prompt, reply,
header or key is in a record, so none is in the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from .._data import CallRecord, RunningTotals
from .._version import __version__
from ..store import (
    Query,
    format_time,
    group_key,
    record_from_dict,
    record_to_dict,
    summary_to_dict,
)
from ._atomic import atomic_text

__all__ = [
    "SCHEMA_VERSION",
    "JsonExport",
    "read_json",
    "write_json",
    "write_json_file",
]

SCHEMA_VERSION = 1
_GROUPS = ("provider", "model", "day", "tag")


@dataclass(frozen=True)
class JsonExport:
    """A JSON export read back: its calls and what it says about itself."""

    records: list[CallRecord]
    summary: Mapping[str, Any]
    breakdowns: Mapping[str, Mapping[str, Any]]
    source: str
    exported_at: str
    schema_version: int


def _query_dict(query: Query) -> dict[str, Any]:
    return {
        "start": format_time(query.start) if query.start else None,
        "end": format_time(query.end) if query.end else None,
        "provider": query.provider,
        "model": query.model,
        "tags": dict(query.tags),
    }


def write_json(
    records: Iterable[CallRecord], out: TextIO, *, source: str, query: Query | None = None
) -> int:
    """Write the export document to ``out`` in one pass; returns the number of calls."""

    head = {
        "schema_version": SCHEMA_VERSION,
        "generator": f"tokenbudget {__version__}",
        "exported_at": format_time(datetime.now(timezone.utc)),
        "source": source,
        "query": _query_dict(query or Query()),
    }
    out.write("{\n")
    for key, value in head.items():
        out.write(f"  {json.dumps(key)}: {_nested(value)},\n")
    out.write('  "calls": [')
    total = RunningTotals()
    groups: dict[str, dict[str, RunningTotals]] = {by: {} for by in _GROUPS}
    count = 0
    for record in records:
        out.write(("," if count else "") + "\n    ")
        out.write(json.dumps(record_to_dict(record), ensure_ascii=False))
        count += 1
        total.add(record)
        for by, table in groups.items():
            for key in group_key(record, by):
                table.setdefault(key, RunningTotals()).add(record)
    breakdowns = {
        by: {key: summary_to_dict(totals.snapshot()) for key, totals in sorted(table.items())}
        for by, table in groups.items()
    }
    out.write("\n  ],\n" if count else "],\n")
    out.write(f'  "summary": {_nested(summary_to_dict(total.snapshot()))},\n')
    out.write(f'  "breakdowns": {_nested(breakdowns)}\n}}\n')
    return count


def _nested(value: Any) -> str:
    """``value`` as indented JSON, to sit one level deep in the document."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")


def write_json_file(
    records: Iterable[CallRecord],
    path: str | os.PathLike[str],
    *,
    source: str,
    query: Query | None = None,
) -> int:
    """:func:`write_json` into ``path``, atomically."""
    with atomic_text(path) as out:
        return write_json(records, out, source=source, query=query)


def read_json(path: str | os.PathLike[str]) -> JsonExport:
    """A JSON export read back (raises ``ValueError`` when it is not one, or too new)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(document, dict) or "schema_version" not in document:
        raise ValueError(f"{path}: not a tokenbudget JSON export (no schema_version)")
    version = document["schema_version"]
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ValueError(
            f"{path}: schema_version {version!r} is newer than this tokenbudget reads"
            f" ({SCHEMA_VERSION}); upgrade tokenbudget"
        )
    try:
        records = [record_from_dict(call) for call in document.get("calls", [])]
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: a call could not be read ({exc!r})") from exc
    return JsonExport(
        records=records,
        summary=document.get("summary", {}),
        breakdowns=document.get("breakdowns", {}),
        source=str(document.get("source", "")),
        exported_at=str(document.get("exported_at", "")),
        schema_version=version,
    )
