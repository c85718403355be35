"""Reading a PostgreSQL usage store: totals, groupings and records, as SQL over its tables.

The SQL twin of ``_sqlite_reads``: a :class:`~tokenbudget.store.Query` becomes a
``WHERE`` clause over indexed columns (a tag filter: one ``EXISTS`` per tag);
totals are summed by the server (money as ``NUMERIC``, exactly). Group keys
are ordered by code point, as SQLite orders them, whatever the database's
locale. ``PostgresStore`` inherits these methods.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .._data import CallRecord, UsageSummary
from ._base import UsageAggregates
from ._postgres_connection import PostgresConnection
from ._postgres_schema import CALLS, DAY, SELECT_CALLS, SUMS, TAGS
from ._query import Query, check_grouping
from ._sql_shared import (
    aggregates_from_rows,
    grouping,
    paged_records,
    summary_from_row,
    where_clause,
)

__all__ = ["PAGE", "PostgresReads"]

#: The parameter mark of this dialect.
MARK = "%s"

#: Rows read per query when paging through calls: one short hold of the connection each.
PAGE = 500


class PostgresReads:
    """Totals, breakdowns, aggregates and records of ``PostgresStore``."""

    _db: PostgresConnection

    def summary(self, query: Query | None = None) -> UsageSummary:
        """Totals over the calls ``query`` keeps."""
        where, params = _where(query or Query())
        with self._db.using("reading totals") as conn:
            row = conn.execute(f"SELECT {SUMS} FROM {CALLS} c{where}", params).fetchone()
        assert row is not None  # an aggregate always gives a row
        return summary_from_row(row)

    def breakdown(self, by: str, query: Query | None = None) -> dict[str, UsageSummary]:
        """Totals per provider, model, UTC day, ``name=value`` tag or value of ``tag:NAME``."""
        check_grouping(by)
        where, params = _where(query or Query())
        join, key, key_params = _grouping(by)
        sql = f"SELECT {key}, {SUMS} FROM {CALLS} c{join}{where} GROUP BY 1"
        with self._db.using("reading totals") as conn:
            rows = conn.execute(sql, [*key_params, *params]).fetchall()
        return {str(row[0]): summary_from_row(row[1:]) for row in sorted(rows, key=_first)}

    def aggregates(self) -> UsageAggregates:
        """Every total a ledger keeps, in two queries (one over calls, one over tags)."""
        main = (
            f"SELECT c.provider, COALESCE(c.model, 'unknown'), {DAY}, {SUMS}"
            f" FROM {CALLS} c GROUP BY 1, 2, 3"
        )
        tags = (
            f"SELECT t.name, t.value, {SUMS} FROM {CALLS} c"
            f" JOIN {TAGS} t ON t.call_id = c.id GROUP BY 1, 2"
        )
        with self._db.using("reading totals") as conn:
            rows = conn.execute(main).fetchall()
            tag_rows = conn.execute(tags).fetchall()
        return aggregates_from_rows(rows, tag_rows)

    def records(self, query: Query | None = None) -> Iterator[CallRecord]:
        """The calls ``query`` keeps, oldest first, read a page at a time."""
        where, params = _where(query or Query())
        return paged_records(self._fetch_calls, SELECT_CALLS, where, params, MARK, PAGE)

    def _fetch_calls(self, sql: str, params: list[Any]) -> Sequence[Sequence[Any]]:
        with self._db.using("reading calls") as conn:
            rows: Sequence[Sequence[Any]] = conn.execute(sql, params).fetchall()
        return rows


def _first(row: Any) -> str:
    return str(row[0])


def _where(query: Query) -> tuple[str, list[Any]]:
    return where_clause(query, MARK, TAGS)


def _grouping(by: str) -> tuple[str, str, list[Any]]:
    return grouping(by, MARK, TAGS, DAY)
