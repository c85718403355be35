"""Reading a PostgreSQL usage store: totals, groupings and records, as SQL over its tables.

The SQL twin of ``_sqlite_reads``: a :class:`~tokenbudget.store.Query` becomes a
``WHERE`` clause over indexed columns (a tag filter: one ``EXISTS`` per tag);
totals are summed by the server (money as ``NUMERIC``, exactly). Group keys
are ordered by code point, as SQLite orders them, whatever the database's
locale. ``PostgresStore`` inherits these methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._data import CallRecord, UsageSummary
from ._base import UsageAggregates
from ._postgres_connection import PostgresConnection
from ._postgres_schema import CALLS, DAY, SELECT_CALLS, SUMS, TAGS
from ._query import Query, check_grouping, to_micros
from ._sql_rows import aggregates_from_rows, summary_from_row
from ._sqlite_schema import record_from_row

__all__ = ["PAGE", "PostgresReads"]

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
        glue = " AND " if where else " WHERE "
        last: tuple[int, int] | None = None
        while True:
            page_where, page_params = where, list(params)
            if last is not None:
                page_where += glue + "(c.ts_us, c.id) > (%s, %s)"
                page_params += [last[0], last[1]]
            sql = f"{SELECT_CALLS}{page_where} ORDER BY c.ts_us, c.id LIMIT {PAGE}"
            with self._db.using("reading calls") as conn:
                rows = conn.execute(sql, page_params).fetchall()
            for row in rows:
                yield record_from_row(row)
            if len(rows) < PAGE:
                return
            last = (rows[-1][1], rows[-1][0])


def _first(row: Any) -> str:
    return str(row[0])


def _where(query: Query) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.start is not None:
        clauses.append("c.ts_us >= %s")
        params.append(to_micros(query.start))
    if query.end is not None:
        clauses.append("c.ts_us < %s")
        params.append(to_micros(query.end))
    if query.provider is not None:
        clauses.append("c.provider = %s")
        params.append(query.provider)
    if query.model is not None:
        clauses.append("c.model = %s")
        params.append(query.model)
    for name, value in query.tags.items():
        clauses.append(
            f"EXISTS (SELECT 1 FROM {TAGS} f"
            " WHERE f.name = %s AND f.value = %s AND f.call_id = c.id)"
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
        return "", DAY, []
    if by == "tag":
        return f" JOIN {TAGS} t ON t.call_id = c.id", "t.name || '=' || t.value", []
    return f" JOIN {TAGS} t ON t.call_id = c.id AND t.name = %s", "t.value", [by[4:]]
