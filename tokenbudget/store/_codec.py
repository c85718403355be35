"""A :class:`CallRecord` as plain JSON data, and back, losslessly.

Money is an exact decimal string (``"0.000135"``), never a float; times are
ISO-8601 UTC with microseconds. A record holds no prompt, reply, header or
credential, so neither does its JSON form: only names, counts, money, ids and
the labels the caller chose.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from .._data import COUNT_FIELDS, CallRecord, Usage, plain_decimal
from ._query import to_utc

__all__ = [
    "TOKEN_FIELDS",
    "decimal_or_none",
    "dump_json",
    "format_time",
    "parse_time",
    "record_from_dict",
    "record_to_dict",
    "usage_from_figures",
]

#: Every token count of :class:`Usage`, in a stable order (the stored columns).
TOKEN_FIELDS = COUNT_FIELDS


def format_time(moment: datetime) -> str:
    """ISO-8601 in UTC with microseconds and a ``Z``: ``2026-01-02T03:04:05.000006Z``."""
    return to_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """The inverse of :func:`format_time` (any ISO-8601 form; naive means UTC)."""
    return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def decimal_or_none(value: object) -> Decimal | None:
    """An exact Decimal from a string or int (``None`` and ``""`` stay ``None``)."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise ValueError(f"money must be an exact decimal string, not the float {value!r}")
    try:
        return plain_decimal(Decimal(str(value)))
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}") from None


def _money(value: Decimal | None) -> str | None:
    """Exact dollars without trailing zeros or exponent (``0.004``, not ``0.00400000``)."""
    return None if value is None else format(plain_decimal(value), "f")


def dump_json(value: Any) -> str:
    """Compact JSON; anything JSON cannot hold (an odd raw usage value) becomes a string."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def usage_from_figures(figures: Mapping[str, Any]) -> Usage:
    """A :class:`Usage` from a mapping holding :data:`TOKEN_FIELDS` and friends."""
    extra = figures.get("extra") or {}
    counts: dict[str, Any] = {name: int(figures.get(name) or 0) for name in TOKEN_FIELDS}
    reason = figures.get("estimate_reason")
    return Usage(
        **counts,
        extra=MappingProxyType({str(k): int(v) for k, v in extra.items()}),
        estimated=bool(figures.get("estimated", False)),
        reported_cost_usd=decimal_or_none(figures.get("reported_cost_usd")),
        estimate_reason=str(reason) if reason else None,
    )


def record_to_dict(record: CallRecord) -> dict[str, Any]:
    """Every field of ``record`` as JSON-ready data."""
    usage = record.usage
    return {
        "timestamp": format_time(record.timestamp),
        "provider": record.provider,
        "model": record.model,
        "request_model": record.request_model,
        "endpoint": record.endpoint,
        "usage": {
            **{name: getattr(usage, name) for name in TOKEN_FIELDS},
            "total_tokens": usage.total_tokens,
            "extra": dict(usage.extra),
            "estimated": usage.estimated,
            "estimate_reason": usage.estimate_reason,
            "reported_cost_usd": _money(usage.reported_cost_usd),
        },
        "cost_usd": _money(record.cost_usd),
        "cached": record.cached,
        "saved_cost_usd": _money(record.saved_cost_usd),
        "status_code": record.status_code,
        "error": record.error,
        "latency_ms": record.latency_ms,
        "request_id": record.request_id,
        "response_id": record.response_id,
        "stream": record.stream,
        "service_tier": record.service_tier,
        "tags": dict(record.tags),
        "raw_usage": json.loads(dump_json(record.raw_usage)),
        "price_version": record.price_version,
        "via": record.via,
    }


def record_from_dict(data: Mapping[str, Any]) -> CallRecord:
    """The record :func:`record_to_dict` wrote (raises ``ValueError``/``KeyError`` if malformed)."""
    latency = data.get("latency_ms")
    status = data.get("status_code")
    return CallRecord(
        timestamp=parse_time(data["timestamp"]),
        provider=str(data["provider"]),
        model=data.get("model"),
        endpoint=str(data.get("endpoint") or "unknown"),
        usage=usage_from_figures(data.get("usage") or {}),
        cost_usd=decimal_or_none(data.get("cost_usd")),
        request_model=data.get("request_model"),
        status_code=None if status is None else int(status),
        latency_ms=None if latency is None else float(latency),
        request_id=data.get("request_id"),
        response_id=data.get("response_id"),
        stream=bool(data.get("stream", False)),
        cached=bool(data.get("cached", False)),
        saved_cost_usd=decimal_or_none(data.get("saved_cost_usd")),
        service_tier=data.get("service_tier"),
        error=data.get("error"),
        tags=MappingProxyType({str(k): str(v) for k, v in (data.get("tags") or {}).items()}),
        raw_usage=data.get("raw_usage"),
        price_version=data.get("price_version"),
        via=data.get("via"),
    )
