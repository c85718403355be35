"""Writing a SQLite usage store: appending calls, and repricing the stored ones.

Every write is one short ``BEGIN IMMEDIATE`` transaction (see
``_sqlite_connection``): a batch of calls goes in whole or not at all, and a
reprice updates a page of calls per transaction, so other processes keep
writing meanwhile. ``SQLiteStore`` inherits these methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._data import CallRecord
from ._reprice import Pricer, RepriceResult
from ._sql_shared import Fetch, reprice_pages
from ._sqlite_connection import PAGE, SQLiteConnection
from ._sqlite_schema import INSERT_CALL, INSERT_TAG, SELECT_CALLS, record_to_row

__all__ = ["SQLiteWrites"]


class SQLiteWrites:
    """Appending and repricing of ``SQLiteStore``."""

    _db: SQLiteConnection
    _fetch_calls: Fetch  # the reads half of the store (one query, its rows)

    def append(self, records: Sequence[CallRecord]) -> None:
        """Insert ``records`` in one transaction (all or none)."""
        if not records:
            return
        rows = [record_to_row(record) for record in records]
        with self._db.transaction("writing calls") as conn:
            cursor = conn.cursor()
            for record, row in zip(records, rows, strict=True):
                cursor.execute(INSERT_CALL, row)
                if record.tags:
                    call_id = cursor.lastrowid
                    cursor.executemany(
                        INSERT_TAG, [(name, value, call_id) for name, value in record.tags.items()]
                    )

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
        skip = "" if force or price_version is None else " AND c.price_version IS NOT ?"
        skipped = 0
        if skip:
            with self._db.using("reading calls") as conn:
                sql = "SELECT COUNT(*) FROM calls WHERE price_version IS ?"
                skipped = conn.execute(sql, [price_version]).fetchone()[0]
        return reprice_pages(
            self._fetch_calls,
            self._write_costs,
            SELECT_CALLS,
            "?",
            PAGE,
            price,
            price_version,
            skip=skip,
            skipped=skipped,
            dry_run=dry_run,
        )

    def _write_costs(self, updates: list[tuple[Any, ...]]) -> None:
        with self._db.transaction("repricing calls") as conn:
            conn.executemany(
                "UPDATE calls SET cost = ?, saved_cost = ?, price_version = ? WHERE id = ?",
                updates,
            )
