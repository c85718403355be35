"""Reading a SQLite usage store: totals, groupings and records, as SQL over ``calls``.

A :class:`~tokenbudget.store.Query` becomes a ``WHERE`` clause over the
indexed columns (a tag filter: one ``EXISTS`` over ``call_tags`` per tag), and
totals are summed in SQL (money exactly, by ``tb_dsum``) and read back as a
:class:`~tokenbudget.UsageSummary`. ``SQLiteStore`` inherits these methods.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .._data import CallRecord, UsageSummary
from ._base import UsageAggregates
from ._query import Query, check_grouping
from ._sql_shared import (
    aggregates_from_rows,
    grouping,
    paged_records,
    summary_from_row,
    where_clause,
)
from ._sqlite_connection import PAGE, SQLiteConnection
from ._sqlite_schema import SELECT_CALLS, SUMS

__all__ = ["SQLiteReads"]

#: The parameter mark of this dialect.
MARK = "?"

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
        return paged_records(self._fetch_calls, SELECT_CALLS, where, params, MARK, PAGE)

    def _fetch_calls(self, sql: str, params: list[Any]) -> Sequence[Sequence[Any]]:
        with self._db.using("reading calls") as conn:
            rows: Sequence[Sequence[Any]] = conn.execute(sql, params).fetchall()
        return rows


def _where(query: Query) -> tuple[str, list[Any]]:
    return where_clause(query, MARK, "call_tags")


def _grouping(by: str) -> tuple[str, str, list[Any]]:
    return grouping(by, MARK, "call_tags", _DAY)
