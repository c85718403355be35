"""The SQL that SQLite and PostgreSQL stores share, written once for both dialects.

Both stores filter, group and page calls with the same clauses (only the
parameter mark, ``?`` or ``%s``, and the table names differ) and select the same
``SUMS`` columns, so the rows they return fold into
:class:`~tokenbudget.UsageSummary` and :class:`UsageAggregates` the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from .._data import CallRecord, UsageSummary
from ._base import UsageAggregates
from ._query import Query, to_micros
from ._reprice import Pricer, RepriceResult, RepriceTally, new_costs
from ._sqlite_schema import record_from_row
from ._totals import add_summaries

__all__ = [
    "Fetch",
    "aggregates_from_rows",
    "grouping",
    "paged_records",
    "reprice_pages",
    "summary_from_row",
    "where_clause",
]

#: Runs one query: ``(sql, params) -> rows``.
Fetch = Callable[[str, list[Any]], Sequence[Sequence[Any]]]
#: Writes one page of ``(cost, saved_cost, price_version, id)`` updates in one transaction.
WriteCosts = Callable[[list[tuple[Any, ...]]], None]


def where_clause(query: Query, mark: str, tags: str) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (or ``""``) and parameters keeping the calls ``query`` keeps.

    ``mark`` is the dialect's parameter mark, ``tags`` the name of the tag table.
    """
    clauses: list[str] = []
    params: list[Any] = []
    if query.start is not None:
        clauses.append(f"c.ts_us >= {mark}")
        params.append(to_micros(query.start))
    if query.end is not None:
        clauses.append(f"c.ts_us < {mark}")
        params.append(to_micros(query.end))
    if query.provider is not None:
        clauses.append(f"c.provider = {mark}")
        params.append(query.provider)
    if query.model is not None:
        clauses.append(f"c.model = {mark}")
        params.append(query.model)
    for name, value in query.tags.items():
        clauses.append(
            f"EXISTS (SELECT 1 FROM {tags} f"
            f" WHERE f.name = {mark} AND f.value = {mark} AND f.call_id = c.id)"
        )
        params += [name, value]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def grouping(by: str, mark: str, tags: str, day: str) -> tuple[str, str, list[Any]]:
    """The join, key expression and join parameters of a breakdown ``by``."""
    if by == "provider":
        return "", "c.provider", []
    if by == "model":
        return "", "COALESCE(c.model, 'unknown')", []
    if by == "day":
        return "", day, []
    if by == "tag":
        return f" JOIN {tags} t ON t.call_id = c.id", "t.name || '=' || t.value", []
    return f" JOIN {tags} t ON t.call_id = c.id AND t.name = {mark}", "t.value", [by[4:]]


def paged_records(
    fetch: Fetch, select: str, where: str, params: list[Any], mark: str, page: int
) -> Iterator[CallRecord]:
    """The calls of ``select + where``, oldest first, ``page`` rows per query.

    Keyset paging on ``(ts_us, id)``: each page starts after the last row of
    the one before, so a long history never loads at once nor skips a row.
    """
    glue = " AND " if where else " WHERE "
    last: tuple[int, int] | None = None
    while True:
        page_where, page_params = where, list(params)
        if last is not None:
            page_where += f"{glue}(c.ts_us, c.id) > ({mark}, {mark})"
            page_params += [last[0], last[1]]
        rows = fetch(f"{select}{page_where} ORDER BY c.ts_us, c.id LIMIT {page}", page_params)
        for row in rows:
            yield record_from_row(row)
        if len(rows) < page:
            return
        last = (rows[-1][1], rows[-1][0])


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


def reprice_pages(
    fetch: Fetch,
    write: WriteCosts,
    select: str,
    mark: str,
    page: int,
    price: Pricer,
    price_version: str | None,
    *,
    skip: str,
    skipped: int,
    dry_run: bool,
) -> RepriceResult:
    """Price every stored call again, ``page`` calls per query, and write the changed costs.

    ``skip`` is the dialect's clause (taking ``price_version``) that leaves out
    calls already priced with this version, or ``""``; ``skipped`` counts them.
    Costs are written as exact decimal text, one transaction per page.
    """
    tally = RepriceTally()
    last_id = 0
    while True:
        params: list[Any] = [last_id] + ([price_version] if skip else [])
        rows = fetch(f"{select} WHERE c.id > {mark}{skip} ORDER BY c.id LIMIT {page}", params)
        updates: list[tuple[Any, ...]] = []
        for row in rows:
            record = record_from_row(row)
            costs = new_costs(record, price)
            if costs is None:
                continue
            tally.add(record, *costs)
            cost, saved = costs
            updates.append((_text(cost), _text(saved), price_version, row[0]))
        if updates and not dry_run:
            write(updates)
        if len(rows) < page:
            return tally.result(price_version, dry_run=dry_run, skipped=skipped)
        last_id = rows[-1][0]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
