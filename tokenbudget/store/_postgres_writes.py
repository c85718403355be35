"""Writing a PostgreSQL usage store: appending calls, and repricing the stored ones.

A batch of calls is one transaction: its ids are taken from the table's
sequence first, then the calls and their tags go in by ``COPY`` (a few round
trips per batch, whatever its size). Exactly once, also when the connection
breaks while ``COMMIT`` is on its way: the outcome of that batch is then
unknown, so the store remembers its ids and records, and before the next batch
it asks the server whether they are in; if they are, the records already
written are left out of the retry (the store writer retries the same record
objects). ``PostgresStore`` inherits these methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._data import CallRecord
from ._postgres_connection import PostgresConnection
from ._postgres_reads import PAGE
from ._postgres_schema import CALLS, COPY_CALLS, COPY_TAGS, SELECT_CALLS
from ._reprice import Pricer, RepriceResult
from ._sql_shared import Fetch, reprice_pages
from ._sqlite_schema import record_to_row

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresWrites"]


@dataclass(frozen=True)
class _InDoubt:
    """A batch whose ``COMMIT`` got no answer: its first id, and the records it held."""

    first_id: int
    records: tuple[CallRecord, ...]


class PostgresWrites:
    """Appending and repricing of ``PostgresStore``."""

    _db: PostgresConnection
    _fetch_calls: Fetch  # the reads half of the store (one query, its rows)
    _in_doubt: _InDoubt | None = None

    def append(self, records: Sequence[CallRecord]) -> None:
        """Insert ``records`` in one transaction (all or none, and never twice)."""
        if not records:
            return
        rows = [record_to_row(record) for record in records]
        with self._db.using("writing calls") as conn:
            if self._in_doubt is not None:
                records, rows = self._settle_doubt(conn, records, rows)
            if not records:
                return
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [CALLS, len(rows)],
                )
            ]
            committing = False
            try:
                with conn.transaction():
                    cursor = conn.cursor()
                    with cursor.copy(COPY_CALLS) as copy:
                        for call_id, row in zip(ids, rows, strict=True):
                            copy.write_row((call_id, *row))
                    tags = [
                        (name, value, call_id)
                        for call_id, record in zip(ids, records, strict=True)
                        for name, value in record.tags.items()
                    ]
                    if tags:
                        with cursor.copy(COPY_TAGS) as copy:
                            for tag in tags:
                                copy.write_row(tag)
                    committing = True
            except Exception:
                if committing:
                    self._in_doubt = _InDoubt(ids[0], tuple(records))
                raise

    def _settle_doubt(
        self,
        conn: psycopg.Connection[Any],
        records: Sequence[CallRecord],
        rows: list[tuple[Any, ...]],
    ) -> tuple[Sequence[CallRecord], list[tuple[Any, ...]]]:
        """Leave out the records of an unanswered ``COMMIT`` that did go in."""
        doubt = self._in_doubt
        assert doubt is not None
        sql = f"SELECT EXISTS (SELECT 1 FROM {CALLS} WHERE id = %s)"
        found = conn.execute(sql, [doubt.first_id]).fetchone()
        written = bool(found and found[0])
        self._in_doubt = None  # only once the server has answered
        if not written:
            return records, rows
        done = {id(record) for record in doubt.records}
        kept = [(r, row) for r, row in zip(records, rows, strict=True) if id(r) not in done]
        return [r for r, _ in kept], [row for _, row in kept]

    def reprice(
        self,
        price: Pricer,
        *,
        price_version: str | None,
        dry_run: bool = False,
        force: bool = False,
    ) -> RepriceResult:
        """Price every stored call again with ``price`` and update the costs that changed.

        As :meth:`SQLiteStore.reprice <tokenbudget.store.SQLiteStore.reprice>`:
        calls already priced with ``price_version`` are skipped unless
        ``force``; pages of a few hundred calls, one short transaction each.
        """
        skip = "" if force or price_version is None else " AND c.price_version IS DISTINCT FROM %s"
        skipped = 0
        if skip:
            with self._db.using("reading calls") as conn:
                sql = f"SELECT COUNT(*) FROM {CALLS} WHERE price_version = %s"
                found = conn.execute(sql, [price_version]).fetchone()
                skipped = int(found[0]) if found else 0
        return reprice_pages(
            self._fetch_calls,
            self._write_costs,
            SELECT_CALLS,
            "%s",
            PAGE,
            price,
            price_version,
            skip=skip,
            skipped=skipped,
            dry_run=dry_run,
        )

    def _write_costs(self, updates: list[tuple[Any, ...]]) -> None:
        with self._db.using("repricing calls") as conn, conn.transaction():
            conn.cursor().executemany(
                f"UPDATE {CALLS} SET cost = %s::NUMERIC, saved_cost = %s::NUMERIC,"
                " price_version = %s WHERE id = %s",
                updates,
            )
