"""CSV export: one row per call, with stable, documented columns.

Columns, in order (:data:`CSV_COLUMNS`):

- ``timestamp``: ISO-8601 UTC with microseconds, ``2026-01-02T03:04:05.123456Z``
- ``provider``, ``model`` (billed), ``request_model`` (asked for), ``endpoint``
- token counts: ``input_tokens``, ``output_tokens``, ``cached_input_tokens``,
  ``cache_write_tokens``, ``cache_write_1h_tokens``, ``reasoning_tokens``,
  ``audio_input_tokens``, ``audio_output_tokens``, ``image_input_tokens``,
  ``image_output_tokens``, ``total_tokens`` (input includes cached and
  cache writes; output includes reasoning)
- ``extra``: non-token billable units as JSON (``{"web_search_requests": 2}``)
- ``cost_usd``: exact decimal dollars, empty when unpriced
- ``estimated``, ``cached``: ``true``/``false``; ``saved_cost_usd``: what a cache
  hit saved; ``reported_cost_usd``: a cost the provider reported itself
- ``estimate_reason``: why the figures are estimated (empty when they are not)
- ``status_code``, ``error``, ``latency_ms``, ``stream``, ``service_tier``,
  ``request_id``, ``response_id``
- ``tags``: JSON object; ``price_version``: the price data the cost came from
- ``via``: the gateway or local server that answered when it is not the
  provider's own API (empty for direct calls)

UTF-8, comma-separated, ``\\r\\n`` line ends (RFC 4180). No prompt, reply,
header or key is in a record, so none is in the file.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO

from .._data import CallRecord, plain_decimal
from ..store import TOKEN_FIELDS, decimal_or_none, format_time, parse_time
from ..store import usage_from_figures as _usage
from ._atomic import atomic_text

__all__ = ["CSV_COLUMNS", "read_csv", "write_csv", "write_csv_file"]

CSV_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "provider",
    "model",
    "request_model",
    "endpoint",
    *TOKEN_FIELDS,
    "total_tokens",
    "extra",
    "cost_usd",
    "estimated",
    "cached",
    "saved_cost_usd",
    "reported_cost_usd",
    "status_code",
    "error",
    "latency_ms",
    "stream",
    "service_tier",
    "request_id",
    "response_id",
    "tags",
    "price_version",
    "estimate_reason",
    "via",
)


#: Columns later versions added: an export written before them still reads.
_ADDED = frozenset(("estimate_reason", "via"))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _row(record: CallRecord) -> list[str]:
    usage = record.usage
    values: dict[str, Any] = {name: getattr(usage, name) for name in TOKEN_FIELDS}
    values.update(
        timestamp=format_time(record.timestamp),
        provider=record.provider,
        model=record.model,
        request_model=record.request_model,
        endpoint=record.endpoint,
        total_tokens=usage.total_tokens,
        extra=json.dumps(dict(usage.extra), sort_keys=True) if usage.extra else "",
        cost_usd=_money(record.cost_usd),
        estimated=usage.estimated,
        cached=record.cached,
        saved_cost_usd=_money(record.saved_cost_usd),
        reported_cost_usd=_money(usage.reported_cost_usd),
        status_code=record.status_code,
        error=record.error,
        latency_ms=record.latency_ms,
        stream=record.stream,
        service_tier=record.service_tier,
        request_id=record.request_id,
        response_id=record.response_id,
        tags=json.dumps(dict(record.tags), ensure_ascii=False, sort_keys=True),
        price_version=record.price_version,
        estimate_reason=usage.estimate_reason,
        via=record.via,
    )
    return [_text(values[name]) for name in CSV_COLUMNS]


def _money(value: Decimal | None) -> str | None:
    """Exact dollars as people write them: ``0.004``, never ``0.00400000`` or ``4E-3``."""
    return None if value is None else format(plain_decimal(value), "f")


def write_csv(records: Iterable[CallRecord], out: TextIO) -> int:
    """Write the header and one row per record to ``out``; returns the row count."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records:
        writer.writerow(_row(record))
        count += 1
    return count


def write_csv_file(records: Iterable[CallRecord], path: str | os.PathLike[str]) -> int:
    """:func:`write_csv` into ``path``, atomically."""
    with atomic_text(path, newline="") as out:
        return write_csv(records, out)


def _flag(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"expected true or false, not {text!r}")
    return text == "true"


def _optional_int(text: str) -> int | None:
    return int(text) if text else None


def _record(row: dict[str, str]) -> CallRecord:
    figures: dict[str, Any] = {name: int(row[name] or 0) for name in TOKEN_FIELDS}
    figures.update(
        extra=json.loads(row["extra"]) if row["extra"] else {},
        estimated=_flag(row["estimated"]),
        reported_cost_usd=row["reported_cost_usd"],
        estimate_reason=row.get("estimate_reason") or None,
    )
    return CallRecord(
        timestamp=parse_time(row["timestamp"]),
        provider=row["provider"],
        model=row["model"] or None,
        endpoint=row["endpoint"],
        usage=_usage(figures),
        cost_usd=decimal_or_none(row["cost_usd"]),
        request_model=row["request_model"] or None,
        status_code=_optional_int(row["status_code"]),
        latency_ms=float(row["latency_ms"]) if row["latency_ms"] else None,
        request_id=row["request_id"] or None,
        response_id=row["response_id"] or None,
        stream=_flag(row["stream"]),
        cached=_flag(row["cached"]),
        saved_cost_usd=decimal_or_none(row["saved_cost_usd"]),
        service_tier=row["service_tier"] or None,
        error=row["error"] or None,
        tags=MappingProxyType(json.loads(row["tags"] or "{}")),
        price_version=row["price_version"] or None,
        via=row.get("via") or None,
    )


def read_csv(path: str | os.PathLike[str]) -> Iterator[CallRecord]:
    """The records of a CSV export (raises ``ValueError`` naming the bad line)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        present = reader.fieldnames or ()
        missing = [name for name in CSV_COLUMNS if name not in present and name not in _ADDED]
        if missing:
            raise ValueError(f"{path}: not a tokenbudget CSV export (no {', '.join(missing)})")
        for row in reader:
            try:
                yield _record(row)
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}, line {reader.line_num}: {exc}") from exc
