"""The SQLite usage store's schema, and the mapping between its rows and call records.

One row per call in ``calls``; its tags twice: as a JSON object in
``calls.tags`` (read back with the record) and as rows of ``call_tags``
(indexed, for queries). Money is exact decimal text (``cost``, ``saved_cost``,
``reported_cost``; ``NULL`` cost means unpriced), summed exactly by the
``tb_dsum`` aggregate registered on every connection. Times are integer
microseconds since the Unix epoch, UTC (``ts_us``, indexed). The file says it
is ours with ``PRAGMA application_id`` and its schema version with ``PRAGMA
user_version``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from .._data import CallRecord, Usage
from ._codec import TOKEN_FIELDS, decimal_or_none, dump_json
from ._query import from_micros, to_micros

__all__ = [
    "APPLICATION_ID",
    "COLUMNS",
    "INSERT_CALL",
    "INSERT_TAG",
    "MIGRATIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SELECT_CALLS",
    "SUMS",
    "DecimalSum",
    "record_from_row",
    "record_to_row",
]

#: ``PRAGMA application_id`` of a tokenbudget store: "tokb".
APPLICATION_ID = 0x746F6B62
SCHEMA_VERSION = 3

SCHEMA = (
    f"""CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    ts_us INTEGER NOT NULL,
    provider TEXT NOT NULL,
    model TEXT,
    request_model TEXT,
    endpoint TEXT NOT NULL,
    {", ".join(f"{name} INTEGER NOT NULL DEFAULT 0" for name in TOKEN_FIELDS)},
    extra TEXT,
    estimated INTEGER NOT NULL DEFAULT 0,
    reported_cost TEXT,
    cost TEXT,
    cached INTEGER NOT NULL DEFAULT 0,
    saved_cost TEXT,
    status_code INTEGER,
    error TEXT,
    latency_ms REAL,
    request_id TEXT,
    response_id TEXT,
    stream INTEGER NOT NULL DEFAULT 0,
    service_tier TEXT,
    tags TEXT NOT NULL DEFAULT '{{}}',
    raw_usage TEXT,
    price_version TEXT,
    estimate_reason TEXT,
    via TEXT
)""",
    "CREATE INDEX calls_ts ON calls (ts_us)",
    "CREATE INDEX calls_model ON calls (model, ts_us)",
    """CREATE TABLE call_tags (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    call_id INTEGER NOT NULL REFERENCES calls (id),
    PRIMARY KEY (name, value, call_id)
) WITHOUT ROWID""",
)

#: The columns of ``calls`` a record fills, in :func:`record_to_row` order.
COLUMNS: tuple[str, ...] = (
    "ts_us",
    "provider",
    "model",
    "request_model",
    "endpoint",
    *TOKEN_FIELDS,
    "extra",
    "estimated",
    "reported_cost",
    "cost",
    "cached",
    "saved_cost",
    "status_code",
    "error",
    "latency_ms",
    "request_id",
    "response_id",
    "stream",
    "service_tier",
    "tags",
    "raw_usage",
    "price_version",
    "estimate_reason",
    "via",
)

#: What a store of an older schema version is brought up to date with, by version.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE calls ADD COLUMN estimate_reason TEXT",),
    2: ("ALTER TABLE calls ADD COLUMN via TEXT",),
}

INSERT_CALL = f"INSERT INTO calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
INSERT_TAG = "INSERT OR IGNORE INTO call_tags (name, value, call_id) VALUES (?, ?, ?)"
SELECT_CALLS = f"SELECT c.id, {', '.join('c.' + name for name in COLUMNS)} FROM calls c"

#: Aggregates in :class:`~tokenbudget.UsageSummary` field order, over rows ``c``.
SUMS = """COUNT(*),
    COALESCE(SUM(c.input_tokens), 0),
    COALESCE(SUM(c.output_tokens), 0),
    COALESCE(SUM(c.cached_input_tokens), 0),
    COALESCE(SUM(c.cache_write_tokens), 0),
    COALESCE(SUM(c.reasoning_tokens), 0),
    tb_dsum(c.cost),
    COALESCE(SUM(c.cost IS NULL), 0),
    COALESCE(SUM(c.cached), 0),
    tb_dsum(CASE WHEN c.cached THEN c.saved_cost END),
    COALESCE(SUM(c.error IS NOT NULL OR COALESCE(c.status_code, 0) >= 400), 0),
    COALESCE(SUM(c.estimated), 0)"""


class DecimalSum:
    """``tb_dsum(text)``: the exact sum of decimal strings (SQLite's SUM would use floats)."""

    def __init__(self) -> None:
        self.total = Decimal(0)

    def step(self, value: object) -> None:
        if value is not None:
            self.total += Decimal(str(value))

    def finalize(self) -> str:
        return format(self.total, "f")


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


#: The largest integer a SQLite INTEGER column holds.
MAX_INTEGER = 2**63 - 1


def _count(usage: Usage, name: str) -> int:
    value = getattr(usage, name)
    if type(value) is not int or not 0 <= value <= MAX_INTEGER:
        raise ValueError(f"{name}={value!r} is not a token count SQLite can store")
    return value


def record_to_row(record: CallRecord) -> tuple[Any, ...]:
    """The ``calls`` values of ``record``, in :data:`COLUMNS` order.

    Raises ``ValueError`` for a token count that is not an int in [0, 2**63-1]
    (the store writer then sets that record aside and writes the others).
    """
    usage = record.usage
    return (
        to_micros(record.timestamp),
        record.provider,
        record.model,
        record.request_model,
        record.endpoint,
        *(_count(usage, name) for name in TOKEN_FIELDS),
        dump_json(dict(usage.extra)) if usage.extra else None,
        int(usage.estimated),
        _money(usage.reported_cost_usd),
        _money(record.cost_usd),
        int(record.cached),
        _money(record.saved_cost_usd),
        record.status_code,
        record.error,
        record.latency_ms,
        record.request_id,
        record.response_id,
        int(record.stream),
        record.service_tier,
        dump_json(dict(record.tags)),
        None if record.raw_usage is None else dump_json(record.raw_usage),
        record.price_version,
        usage.estimate_reason,
        record.via,
    )


def record_from_row(row: Sequence[Any]) -> CallRecord:
    """The record of a ``SELECT_CALLS`` row (its first value, the id, is skipped)."""
    values = dict(zip(COLUMNS, row[1:], strict=True))
    extra = json.loads(values["extra"]) if values["extra"] else {}
    counts: dict[str, Any] = {name: values[name] for name in TOKEN_FIELDS}
    usage = Usage(
        **counts,
        extra=MappingProxyType(extra),
        estimated=bool(values["estimated"]),
        reported_cost_usd=decimal_or_none(values["reported_cost"]),
        estimate_reason=values["estimate_reason"],
    )
    raw = values["raw_usage"]
    return CallRecord(
        timestamp=from_micros(values["ts_us"]),
        provider=values["provider"],
        model=values["model"],
        endpoint=values["endpoint"],
        usage=usage,
        cost_usd=decimal_or_none(values["cost"]),
        request_model=values["request_model"],
        status_code=values["status_code"],
        latency_ms=values["latency_ms"],
        request_id=values["request_id"],
        response_id=values["response_id"],
        stream=bool(values["stream"]),
        cached=bool(values["cached"]),
        saved_cost_usd=decimal_or_none(values["saved_cost"]),
        service_tier=values["service_tier"],
        error=values["error"],
        tags=MappingProxyType(json.loads(values["tags"] or "{}")),
        raw_usage=None if raw is None else json.loads(raw),
        price_version=values["price_version"],
        via=values["via"],
    )
