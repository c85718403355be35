"""``SQLiteStore``: the embedded usage store, one file, safe for several processes.

The file is opened in WAL mode with ``synchronous=NORMAL``: readers never block
the writer, and a commit costs no fsync (a power cut may lose the last
commits, never corrupt the file). Several processes on one machine may share a
file: each write is one short ``BEGIN IMMEDIATE`` transaction and a writer that
finds the file locked waits up to ``timeout`` seconds (SQLite's busy timeout)
before its batch fails, and is retried by the :class:`StoreWriter`. A network
file system (NFS, SMB) does not give SQLite working locks: use one file per
machine there.

One connection serves all threads of a process, behind a lock; reads page
through results so a long export never holds it for long.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from .._data import CallRecord, UsageSummary
from ._base import StoreError, UsageAggregates, UsageStore
from ._query import Query, check_grouping, to_micros
from ._reprice import Pricer, RepriceResult, RepriceTally, new_costs
from ._sqlite_schema import (
    APPLICATION_ID,
    INSERT_CALL,
    INSERT_TAG,
    SCHEMA,
    SCHEMA_VERSION,
    SELECT_CALLS,
    SUMS,
    DecimalSum,
    record_from_row,
    record_to_row,
)
from ._totals import add_summaries

__all__ = ["SQLiteStore"]

_PAGE = 500
_DAY = "strftime('%Y-%m-%d', c.ts_us / 1000000, 'unixepoch')"


class SQLiteStore(UsageStore):
    """Call records in one SQLite file (or in memory with ``":memory:"``).

    Args:
        path: the database file; created (with its schema) when missing unless
            ``create=False``.
        create: make the file and schema when absent; ``False`` opens only an
            existing tokenbudget store (what ``tokenbudget report`` does).
        timeout: seconds a write waits for another process's lock.

    Raises :class:`StoreError` when the file is not a SQLite database, is
    another application's database, or was made by a newer tokenbudget.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, create: bool = True, timeout: float = 5.0
    ) -> None:
        self.memory = str(path) == ":memory:"
        self.path = Path(path) if not self.memory else Path(":memory:")
        self.url = "sqlite://" if self.memory else f"sqlite:///{self.path.resolve()}"
        self._lock = threading.RLock()
        self._closed = False
        self._conn = self._connect(create, timeout)

    def __repr__(self) -> str:
        return f"<SQLiteStore {self.url}>"

    # -- opening -------------------------------------------------------------------------

    def _connect(self, create: bool, timeout: float) -> sqlite3.Connection:
        if self.memory:
            target, uri = ":memory:", False
        else:
            if not create and not self.path.exists():
                raise StoreError(f"{self.path}: no such file")
            mode = "rwc" if create else "rw"
            target, uri = f"file:{quote(str(self.path))}?mode={mode}", True
        try:
            conn = sqlite3.connect(
                target, timeout=timeout, isolation_level=None, check_same_thread=False, uri=uri
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open: {exc}") from exc
        try:
            self._prepare(conn, create)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{self.path} is not a tokenbudget usage store ({exc})") from exc
        except BaseException:
            conn.close()
            raise
        conn.create_aggregate("tb_dsum", 1, cast(Any, DecimalSum))
        return conn

    def _prepare(self, conn: sqlite3.Connection, create: bool) -> None:
        app_id, version, tables = _identity(conn)
        if app_id == 0 and tables == 0:
            if not create:
                raise StoreError(f"{self.path} is empty, not a tokenbudget usage store")
            _set_pragmas(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                if _identity(conn)[0] == 0:  # another process may have won the race
                    for statement in SCHEMA:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return
        if app_id != APPLICATION_ID:
            raise StoreError(
                f"{self.path} is not a tokenbudget usage store"
                " (a SQLite database of another application)"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer tokenbudget (schema {version});"
                " upgrade tokenbudget to read it"
            )
        _set_pragmas(conn)

    # -- plumbing ------------------------------------------------------------------------

    @contextmanager
    def _using(self, action: str) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, with SQLite errors as :class:`StoreError`."""
        with self._lock:
            if self._closed:
                raise StoreError(f"{self.url}: the store is closed")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise StoreError(f"{self.url}: {action} failed: {exc}") from exc

    @contextmanager
    def _transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._using(action) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # -- writing -------------------------------------------------------------------------

    def append(self, records: Sequence[CallRecord]) -> None:
        """Insert ``records`` in one transaction (all or none)."""
        if not records:
            return
        rows = [record_to_row(record) for record in records]
        with self._transaction("writing calls") as conn:
            cursor = conn.cursor()
            for record, row in zip(records, rows, strict=True):
                cursor.execute(INSERT_CALL, row)
                if record.tags:
                    call_id = cursor.lastrowid
                    cursor.executemany(
                        INSERT_TAG, [(name, value, call_id) for name, value in record.tags.items()]
                    )

    # -- reading -------------------------------------------------------------------------

    def summary(self, query: Query | None = None) -> UsageSummary:
        """Totals over the calls ``query`` keeps."""
        where, params = _where(query or Query())
        with self._using("reading totals") as conn:
            row = conn.execute(f"SELECT {SUMS} FROM calls c{where}", params).fetchone()
        return _summary(row)

    def breakdown(self, by: str, query: Query | None = None) -> dict[str, UsageSummary]:
        """Totals per provider, model, UTC day, ``name=value`` tag or value of ``tag:NAME``."""
        check_grouping(by)
        where, params = _where(query or Query())
        join, key, key_params = _grouping(by)
        sql = f"SELECT {key}, {SUMS} FROM calls c{join}{where} GROUP BY 1 ORDER BY 1"
        with self._using("reading totals") as conn:
            rows = conn.execute(sql, [*key_params, *params]).fetchall()
        return {str(row[0]): _summary(row[1:]) for row in rows}

    def aggregates(self) -> UsageAggregates:
        """Every total a ledger keeps, in two queries (one over calls, one over tags)."""
        main = (
            f"SELECT c.provider, COALESCE(c.model, 'unknown'), {_DAY}, {SUMS}"
            " FROM calls c GROUP BY 1, 2, 3"
        )
        tags = f"SELECT t.name, t.value, {SUMS} FROM calls c JOIN call_tags t ON t.call_id = c.id"
        with self._using("reading totals") as conn:
            rows = conn.execute(main).fetchall()
            tag_rows = conn.execute(tags + " GROUP BY 1, 2").fetchall()
        total = UsageSummary()
        by: tuple[dict[str, UsageSummary], ...] = ({}, {}, {})
        for row in rows:
            summary = _summary(row[3:])
            total = add_summaries(total, summary)
            for table, key in zip(by, row[:3], strict=True):
                table[key] = add_summaries(table[key], summary) if key in table else summary
        return UsageAggregates(
            total=total,
            by_provider=by[0],
            by_model=by[1],
            by_day=by[2],
            by_tag={(row[0], row[1]): _summary(row[2:]) for row in tag_rows},
        )

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
            sql = f"{SELECT_CALLS}{page_where} ORDER BY c.ts_us, c.id LIMIT {_PAGE}"
            with self._using("reading calls") as conn:
                rows = conn.execute(sql, page_params).fetchall()
            for row in rows:
                yield record_from_row(row)
            if len(rows) < _PAGE:
                return
            last = (rows[-1][1], rows[-1][0])

    # -- repricing -----------------------------------------------------------------------

    def reprice(
        self,
        price: Pricer,
        *,
        price_version: str | None,
        dry_run: bool = False,
        force: bool = False,
    ) -> RepriceResult:
        """Price every stored call again with ``price`` and update the costs that changed.

        Calls already priced with ``price_version`` are skipped (the same price
        data gives the same cost) unless ``force``. Updated rows get
        ``price_version``; work goes in pages of a few hundred calls, one short
        transaction each, so other processes keep writing meanwhile.
        """
        tally = RepriceTally()
        last_id = 0
        skip = "" if force or price_version is None else " AND c.price_version IS NOT ?"
        skipped = 0
        if skip:
            with self._using("reading calls") as conn:
                sql = "SELECT COUNT(*) FROM calls WHERE price_version IS ?"
                skipped = conn.execute(sql, [price_version]).fetchone()[0]
        while True:
            params: list[Any] = [last_id] + ([price_version] if skip else [])
            sql = f"{SELECT_CALLS} WHERE c.id > ?{skip} ORDER BY c.id LIMIT {_PAGE}"
            with self._using("reading calls") as conn:
                rows = conn.execute(sql, params).fetchall()
            updates = []
            for row in rows:
                record = record_from_row(row)
                costs = new_costs(record, price)
                if costs is None:
                    continue
                tally.add(record, *costs)
                cost, saved = costs
                updates.append((_text(cost), _text(saved), price_version, row[0]))
            if updates and not dry_run:
                with self._transaction("repricing calls") as conn:
                    conn.executemany(
                        "UPDATE calls SET cost = ?, saved_cost = ?, price_version = ? WHERE id = ?",
                        updates,
                    )
            if len(rows) < _PAGE:
                return tally.result(price_version, dry_run=dry_run, skipped=skipped)
            last_id = rows[-1][0]

    # -- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection; idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()


def _identity(conn: sqlite3.Connection) -> tuple[int, int, int]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
    return int(app_id), int(version), int(tables)


def _set_pragmas(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _summary(row: Sequence[Any]) -> UsageSummary:
    return UsageSummary(
        calls=row[0],
        input_tokens=row[1],
        output_tokens=row[2],
        cached_input_tokens=row[3],
        cache_write_tokens=row[4],
        reasoning_tokens=row[5],
        cost_usd=Decimal(row[6] or 0),  # no rows: the aggregate gives NULL
        unpriced_calls=row[7],
        cached_calls=row[8],
        saved_cost_usd=Decimal(row[9] or 0),
        failed_calls=row[10],
        estimated_calls=row[11],
    )


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
