"""Faults under the store writer: a bad record, a full disk, a file locked by another process.

A batch that fails never blocks the ones after it: a record the store cannot take
is set aside (``writer.rejected``, logged), the others are written; a store that
is full or locked is retried until it works again, losing nothing.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from tokenbudget import CallRecord, TokenTracker
from tokenbudget.store import SQLiteStore, StoreWriter

from ..support import record


def _rows(path: Path) -> int:
    with SQLiteStore(path, create=False) as store:
        return store.summary().calls


def _wait_for_failure(writer: StoreWriter) -> None:
    """Until the writer has met the fault (``flush`` returns False at once while it fails)."""
    while writer.flush(timeout=None):
        time.sleep(0.001)


def _drain(writer: StoreWriter) -> None:
    """Until every record put is written (polling: ``flush`` gives up at once on a failure)."""
    while writer.pending:
        writer.flush(timeout=None)
        time.sleep(0.005)


def test_a_count_sqlite_cannot_hold_is_set_aside_and_later_calls_are_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Provider and user counts are checked upstream (``track`` refuses this one);
    # the store's own boundary is tested behind it, through the writer.
    path = tmp_path / "usage.db"
    with TokenTracker() as tracker, pytest.raises(ValueError, match="input_tokens"):
        tracker.track("gpt-4o", 2**63, 5)
    store = SQLiteStore(path)
    writer = StoreWriter(store)
    writer.put(record(input_tokens=10))
    writer.put(record(input_tokens=2**63))  # above SQLite's INTEGER
    for _ in range(5):
        writer.put(record(input_tokens=10))
    _drain(writer)
    assert [r.usage.input_tokens for r in writer.rejected] == [2**63]
    assert writer.close() == 0
    store.close()
    assert _rows(path) == 6
    assert "set aside" in caplog.text and "input_tokens" in caplog.text


class FullThenFine(SQLiteStore):
    """A store whose first writes fail as SQLite does on a full disk."""

    def __init__(self, path: Path, failures: int) -> None:
        super().__init__(path)
        self.failures = failures

    def append(self, records: Sequence[CallRecord]) -> None:
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        super().append(records)


def test_a_full_disk_is_retried_and_nothing_is_lost_or_set_aside(tmp_path: Path) -> None:
    store = FullThenFine(tmp_path / "usage.db", failures=3)
    writer = StoreWriter(store)
    for _ in range(20):
        writer.put(record())
    _drain(writer)
    assert writer.close() == 0 and not writer.rejected
    assert store.summary().calls == 20
    store.close()


def test_sqlite_full_from_a_page_limit_is_retried_once_there_is_room(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "usage.db")
    with store._db.using("fault injection") as conn:  # SQLITE_FULL on demand
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
    writer = StoreWriter(store)
    for _ in range(300):
        writer.put(record(tags={"feature": "x" * 200}))
    _wait_for_failure(writer)
    assert "full" in (writer.last_error or "")
    with store._db.using("fault injection") as conn:
        conn.execute("PRAGMA max_page_count = 1073741823")
    _drain(writer)
    assert writer.close() == 0 and not writer.rejected
    assert store.summary().calls == 300
    store.close()


def test_a_store_locked_longer_than_its_timeout_is_written_when_released(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "usage.db"
    store = SQLiteStore(path, timeout=0.01)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    writer = StoreWriter(store)
    for _ in range(10):
        writer.put(record())
    _wait_for_failure(writer)
    assert "locked" in (writer.last_error or "")
    other.execute("COMMIT")
    other.close()
    _drain(writer)
    assert writer.close() == 0 and not writer.rejected
    assert store.summary().calls == 10
    store.close()
    assert any(r.levelno == logging.WARNING and "works again" in r.message for r in caplog.records)
