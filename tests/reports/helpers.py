"""Records with chosen figures, a fixed-totals source, and a store that fails on demand."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType

from tokenbudget import CallRecord, Usage, UsageSummary
from tokenbudget.reports import UsageSource
from tokenbudget.store import Query, SQLiteStore

#: Monday 2026-01-05, noon UTC: the day every made-up record starts from.
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


def record(
    model: str | None = "gpt-4o",
    input_tokens: int = 100,
    output_tokens: int = 20,
    cost: str | None = "0.00045",
    *,
    provider: str = "openai",
    at: datetime | None = None,
    days: int = 0,
    tags: Mapping[str, str] | None = None,
    cached_input_tokens: int = 0,
    cached: bool = False,
    saved: str | None = None,
    status: int | None = 200,
    error: str | None = None,
    estimated: bool = False,
    raw_usage: object = None,
    price_version: str | None = "stub-1",
    service_tier: str | None = None,
) -> CallRecord:
    """A record with the given figures (its timestamp ``days`` after :data:`T0`)."""
    return CallRecord(
        timestamp=(at or T0) + timedelta(days=days),
        provider=provider,
        model=model,
        endpoint="chat",
        usage=Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached_input_tokens,
            estimated=estimated,
        ),
        cost_usd=None if cost is None else Decimal(cost),
        request_model=model,
        status_code=status,
        latency_ms=12.5,
        request_id="req_1",
        response_id="resp_1",
        cached=cached,
        saved_cost_usd=None if saved is None else Decimal(saved),
        service_tier=service_tier,
        error=error,
        tags=MappingProxyType(dict(tags or {})),
        raw_usage=raw_usage,
        price_version=price_version,
    )


def varied_records() -> list[CallRecord]:
    """A mix covering every figure a summary counts: tags, days, cache, errors, unpriced."""
    return [
        record("gpt-4o", 1200, 300, "0.006", tags={"feature": "search"}, raw_usage={"a": 1}),
        record("gpt-4o", 800, 100, "0.003", days=1, tags={"feature": "chat", "team": "x"}),
        record("gpt-4o-mini", 5000, 900, "0.00129", days=1, cached_input_tokens=1000),
        record("claude-sonnet-4-5", 7000, 500, "0.0285", provider="anthropic", days=2),
        record("claude-sonnet-4-5", 7000, 0, "0", provider="anthropic", cached=True, saved="0.021"),
        record("my-finetune", 300, 30, None, tags={"feature": "search"}),
        record("gpt-4o", 0, 0, "0", status=429, error="HTTP 429", days=2),
        record("gemini-2.5-flash", 50, 700, "0.00176", provider="google", estimated=True),
        record(None, 10, 0, None, provider="openai-compatible", days=3),
    ]


class FixedSource(UsageSource):
    """A source that answers fixed totals (to test how numbers of any size look)."""

    label = "fixed"

    def __init__(self, rows: Mapping[str, UsageSummary], total: UsageSummary) -> None:
        self.rows = dict(rows)
        self.total = total

    def summary(self, query: Query) -> UsageSummary:
        return self.total

    def breakdown(self, by: str, query: Query) -> dict[str, UsageSummary]:
        return dict(self.rows)

    def records(self, query: Query) -> Iterator[CallRecord]:
        return iter(())


def summary(calls: int, tokens: int, cost: str, **more: object) -> UsageSummary:
    """A summary with ``tokens`` split 3:1 into input and output."""
    return UsageSummary(
        calls=calls,
        input_tokens=tokens - tokens // 4,
        output_tokens=tokens // 4,
        cost_usd=Decimal(cost),
        **more,  # type: ignore[arg-type]
    )


class FlakyStore(SQLiteStore):
    """An in-memory SQLite store whose writes fail while ``failing`` is set."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.failing = True
        self.attempts = 0

    def append(self, records: Sequence[CallRecord]) -> None:
        self.attempts += 1
        if self.failing:
            raise OSError("disk full")
        super().append(records)
