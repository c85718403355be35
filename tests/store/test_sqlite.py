"""What only the SQLite store does: WAL, its application id, bad files, old schemas.

The behaviour every store shares (totals, queries, paging, reopening, several
processes) is tested against SQLite and PostgreSQL alike in ``test_backends``.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from tokenbudget import TokenTracker
from tokenbudget.store import (
    Query,
    SQLiteStore,
    StoreError,
    UsageStore,
    open_store,
)

from ..support import StubBook, record


def test_range_queries_work_without_a_store() -> None:
    tracker = TokenTracker(prices=StubBook())
    tracker.track("gpt-4o", 1000, 0)
    assert tracker.usage_since(timedelta(minutes=5)).calls == 1
    assert tracker.usage_since(timedelta(minutes=5), model="other").calls == 0


def test_the_in_memory_window_warns_when_it_is_incomplete(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracker = TokenTracker(prices=StubBook(), max_records=2)
    for _ in range(3):
        tracker.track("gpt-4o", 10, 1)
    assert tracker.usage_since(timedelta(days=1)).calls == 2
    assert "only the latest 2 of 3 calls" in caplog.text


def test_wal_mode_and_our_application_id(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "u.db").close()
    with sqlite3.connect(tmp_path / "u.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x746F6B62
    conn.close()


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="is not a tokenbudget usage store"):
        TokenTracker(store=path)
    with pytest.raises(StoreError, match="file is not a database"):
        SQLiteStore(path, create=False)


def test_another_applications_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    with pytest.raises(StoreError, match="another application"):
        SQLiteStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # untouched
    conn.close()


def test_a_store_from_a_newer_tokenbudget_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "u.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer tokenbudget"):
        SQLiteStore(path)


def test_opening_without_create_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such file"):
        SQLiteStore(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "empty.db").touch()
    with pytest.raises(StoreError, match="empty"):
        SQLiteStore(tmp_path / "empty.db", create=False)


def test_open_store_picks_the_store_by_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///relative.db") as relative:
        assert isinstance(relative, SQLiteStore)
    assert (tmp_path / "relative.db").exists()
    with open_store(f"sqlite:///{tmp_path}/absolute.db") as absolute:
        assert absolute.url == f"sqlite:///{tmp_path}/absolute.db"
    with open_store("sqlite://") as memory:
        assert memory.url == "sqlite://"
        assert open_store(memory) is memory
    with open_store("redis://127.0.0.1:1/0") as redis_store:  # connects on first use
        assert type(redis_store).__name__ == "RedisStore"
    with pytest.raises(ValueError, match=r"unknown usage store ftp://.*sqlite://"):
        open_store("ftp://example/usage")


def test_counter_only_stores_say_what_they_cannot_do() -> None:
    class Counters(UsageStore):
        def append(self, records: object) -> None: ...
        def summary(self, query: Query | None = None) -> object: ...  # type: ignore[override]
        def breakdown(self, by: str, query: Query | None = None) -> dict:  # type: ignore[type-arg]
            return {}

        def close(self) -> None: ...

    counters = Counters()  # type: ignore[abstract]
    with pytest.raises(NotImplementedError, match="totals only"):
        counters.records()
    with pytest.raises(NotImplementedError, match="cannot reprice"):
        counters.reprice(lambda *a: None, price_version=None)


def test_a_store_of_the_first_schema_is_brought_up_to_date(tmp_path: Path) -> None:
    """A usage.db written before estimate_reason existed opens, keeps its calls, takes new ones."""
    path = tmp_path / "old.db"
    with SQLiteStore(path) as store:
        store.append([record()])
    with sqlite3.connect(path) as conn:  # back to schema 1: no estimate_reason, no via
        conn.execute("ALTER TABLE calls DROP COLUMN estimate_reason")
        conn.execute("ALTER TABLE calls DROP COLUMN via")
        conn.execute("PRAGMA user_version = 1")
    conn.close()

    with SQLiteStore(path, create=False) as store:
        store.append([record(estimated=True)])
        back = list(store.records(Query()))
    assert [r.usage.estimate_reason for r in back] == [None, "the answer reported no usage"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    conn.close()


def test_a_store_of_the_second_schema_gains_via(tmp_path: Path) -> None:
    """A usage.db written before CallRecord.via existed opens and keeps the hosts of new calls."""
    path = tmp_path / "old.db"
    with SQLiteStore(path) as store:
        store.append([record()])
    with sqlite3.connect(path) as conn:  # back to schema 2: no via column
        conn.execute("ALTER TABLE calls DROP COLUMN via")
        conn.execute("PRAGMA user_version = 2")
    conn.close()

    gateway = dataclasses.replace(record(), via="llm-gw.internal:4000")
    with SQLiteStore(path, create=False) as store:
        store.append([gateway])
        back = list(store.records(Query()))
    assert [r.via for r in back] == [None, "llm-gw.internal:4000"]
    assert back[1] == gateway
