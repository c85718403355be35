"""Turning the SQL stores' aggregate rows into summaries: one reading for SQLite and PostgreSQL.

Both stores select the same ``SUMS`` columns (in their own dialects), so the rows
they return fold into :class:`~tokenbudget.UsageSummary` and
:class:`UsageAggregates` the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from .._data import UsageSummary
from ._base import UsageAggregates
from ._totals import add_summaries

__all__ = ["aggregates_from_rows", "summary_from_row"]


def summary_from_row(row: Sequence[Any]) -> UsageSummary:
    """The summary of a row of ``SUMS`` columns (money sums are ``NULL`` over no rows)."""
    return UsageSummary(
        calls=row[0],
        input_tokens=row[1],
        output_tokens=row[2],
        cached_input_tokens=row[3],
        cache_write_tokens=row[4],
        reasoning_tokens=row[5],
        cost_usd=Decimal(row[6] or 0),
        unpriced_calls=row[7],
        cached_calls=row[8],
        saved_cost_usd=Decimal(row[9] or 0),
        failed_calls=row[10],
        estimated_calls=row[11],
    )


def aggregates_from_rows(
    rows: Iterable[Sequence[Any]], tag_rows: Iterable[Sequence[Any]]
) -> UsageAggregates:
    """Fold ``(provider, model, day, *SUMS)`` rows and ``(tag, value, *SUMS)`` rows."""
    total = UsageSummary()
    by: tuple[dict[str, UsageSummary], ...] = ({}, {}, {})
    for row in rows:
        summary = summary_from_row(row[3:])
        total = add_summaries(total, summary)
        for table, key in zip(by, row[:3], strict=True):
            table[key] = add_summaries(table[key], summary) if key in table else summary
    return UsageAggregates(
        total=total,
        by_provider=by[0],
        by_model=by[1],
        by_day=by[2],
        by_tag={(row[0], row[1]): summary_from_row(row[2:]) for row in tag_rows},
    )
