"""Helpers of the report tests: a source with fixed totals, summaries of chosen sizes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal

from tokenbudget import CallRecord, UsageSummary
from tokenbudget.reports import UsageSource
from tokenbudget.store import Query


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
