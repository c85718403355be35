"""Reading a SQLite usage store: totals, groupings and records, as SQL over ``calls``.

A :class:`~tokenbudget.store.Query` becomes a ``WHERE`` clause over the
indexed columns (a tag filter: one ``EXISTS`` over ``call_tags`` per tag), and
totals are summed in SQL (money exactly, by ``tb_dsum``) and read back as a
:class:`~tokenbudget.UsageSummary`. ``SQLiteStore`` inherits these methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._data import CallRecord, UsageSummary
from ._base import UsageAggregates
from ._query import Query, check_grouping, to_micros
from ._sql_rows import aggregates_from_rows, summary_from_row
from ._sqlite_connection import PAGE, SQLiteConnection
from ._sqlite_schema import SELECT_CALLS, SUMS, record_from_row

__all__ = ["SQLiteReads"]

_DAY = "strftime('%Y-%m-%d', c.ts_us / 1000000, 'unixepoch')"


class SQLiteReads:
    """Totals, breakdowns, aggregates and records of ``SQLiteStore``."""

    _db: SQLiteConnection

    def summary(self, query: Query | None = None) -> UsageSummary:
        """Totals over the calls ``query`` keeps."""
        where, params = _where(query or Query())
        with self._db.using("reading totals") as conn:
            row = conn.execute(f"SELECT {SUMS} FROM calls c{where}", params).fetchone()
        return summary_from_row(row)

    def breakdown(self, by: str, query: Query | None = None) -> dict[str, UsageSummary]:
        """Totals per provider, model, UTC day, ``name=value`` tag or value of ``tag:NAME``."""
        check_grouping(by)
        where, params = _where(query or Query())
        join, key, key_params = _grouping(by)
        sql = f"SELECT {key}, {SUMS} FROM calls c{join}{where} GROUP BY 1 ORDER BY 1"
        with self._db.using("reading totals") as conn:
            rows = conn.execute(sql, [*key_params, *params]).fetchall()
        return {str(row[0]): summary_from_row(row[1:]) for row in rows}

    def aggregates(self) -> UsageAggregates:
        """Every total a ledger keeps, in two queries (one over calls, one over tags)."""
        main = (
            f"SELECT c.provider, COALESCE(c.model, 'unknown'), {_DAY}, {SUMS}"
            " FROM calls c GROUP BY 1, 2, 3"
        )
        tags = f"SELECT t.name, t.value, {SUMS} FROM calls c JOIN call_tags t ON t.call_id = c.id"
        with self._db.using("reading totals") as conn:
            rows = conn.execute(main).fetchall()
            tag_rows = conn.execute(tags + " GROUP BY 1, 2").fetchall()
        return aggregates_from_rows(rows, tag_rows)

    def records(self, query: Query | None = None) -> Iterator[CallRecord]:
        """The calls ``query`` keeps, oldest first, read a page at a time."""
        where, params = _where(query or Query())
        glue = " AND " if where else " WHERE "
        last: tuple[int, int] | None = None
        while True:
            page_where, page_params = where, list(params)
            if last is not None:
                page_where += glue + "(c.ts_us > ? OR (c.ts_us = ? AND c.id > ?))"
                page_params += [last[0], last[0], last[1]]
            sql = f"{SELECT_CALLS}{page_where} ORDER BY c.ts_us, c.id LIMIT {PAGE}"
            with self._db.using("reading calls") as conn:
                rows = conn.execute(sql, page_params).fetchall()
            for row in rows:
                yield record_from_row(row)
            if len(rows) < PAGE:
                return
            last = (rows[-1][1], rows[-1][0])


def _where(query: Query) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.start is not None:
        clauses.append("c.ts_us >= ?")
        params.append(to_micros(query.start))
    if query.end is not None:
        clauses.append("c.ts_us < ?")
        params.append(to_micros(query.end))
    if query.provider is not None:
        clauses.append("c.provider = ?")
        params.append(query.provider)
    if query.model is not None:
        clauses.append("c.model = ?")
        params.append(query.model)
    for name, value in query.tags.items():
        clauses.append(
            "EXISTS (SELECT 1 FROM call_tags f"
            " WHERE f.name = ? AND f.value = ? AND f.call_id = c.id)"
        )
        params += [name, value]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _grouping(by: str) -> tuple[str, str, list[Any]]:
    """The join, key expression and join parameters of a grouping."""
    if by == "provider":
        return "", "c.provider", []
    if by == "model":
        return "", "COALESCE(c.model, 'unknown')", []
    if by == "day":
        return "", _DAY, []
    if by == "tag":
        return " JOIN call_tags t ON t.call_id = c.id", "t.name || '=' || t.value", []
    return " JOIN call_tags t ON t.call_id = c.id AND t.name = ?", "t.value", [by[4:]]
