"""The SQLite usage store: exact totals, queries, paging, reopening, two processes, bad files."""

from __future__ import annotations

import dataclasses
import gc
import sqlite3
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from tokenbudget import TokenTracker
from tokenbudget.reports import RecordsSource
from tokenbudget.store import (
    Query,
    SQLiteStore,
    StoreError,
    UsageStore,
    group_records,
    open_store,
    summarize,
)

from ..support import T0, StubBook, record, varied_records

QUERIES = [
    Query(),
    Query(start=T0 + timedelta(days=1)),
    Query(end=T0 + timedelta(days=1)),
    Query(start=T0, end=T0 + timedelta(days=2)),
    Query(provider="anthropic"),
    Query(model="gpt-4o"),
    Query(tags={"feature": "search"}),
    Query(tags={"feature": "chat", "team": "x"}),
    Query(provider="openai", tags={"feature": "nothing"}),
]


@pytest.fixture
def store() -> SQLiteStore:
    with SQLiteStore(":memory:") as opened:
        opened.append(varied_records())
        yield opened  # type: ignore[misc]


@pytest.mark.parametrize("query", QUERIES)
def test_store_totals_equal_the_ledger_arithmetic(store: SQLiteStore, query: Query) -> None:
    memory = RecordsSource(varied_records())
    assert store.summary(query) == memory.summary(query)
    for by in ("provider", "model", "day", "tag", "tag:feature"):
        assert store.breakdown(by, query) == memory.breakdown(by, query), by


def test_money_is_summed_exactly() -> None:
    tenths = [record(cost="0.1") for _ in range(10)]
    with SQLiteStore(":memory:") as store:
        store.append(tenths)
        assert store.summary().cost_usd == Decimal(1)
        assert sum(float(r.cost_usd or 0) for r in tenths) != 1.0  # SQL SUM over floats drifts
        store.append([record(cost="0.000000001")] * 3)
        assert store.summary().cost_usd == Decimal("1.000000003")


def test_records_come_back_equal_and_in_time_order(store: SQLiteStore) -> None:
    expected = sorted(varied_records(), key=lambda r: r.timestamp)
    assert list(store.records()) == expected
    first = next(store.records(Query(tags={"feature": "search"})))
    assert first.raw_usage == {"a": 1} and first.price_version == "stub-1"


def test_ranges_are_half_open_and_dates_are_utc_days() -> None:
    with SQLiteStore(":memory:") as store:
        store.append([record(at=datetime(2026, 1, 5, tzinfo=timezone.utc)), record()])
        assert store.summary(Query.build(date(2026, 1, 5), date(2026, 1, 6))).calls == 2
        midnight = datetime(2026, 1, 5)  # naive means UTC
        assert store.summary(Query.build(None, midnight)).calls == 0
        assert store.summary(Query.build(midnight, midnight + timedelta(hours=12))).calls == 1


def test_paging_returns_every_record_once() -> None:
    same_time = [record(input_tokens=i) for i in range(700)]
    later = [record(input_tokens=i, days=1) for i in range(600)]
    with SQLiteStore(":memory:") as store:
        store.append(same_time)
        store.append(later)
        seen = [r.input_tokens for r in store.records()]
    assert seen == list(range(700)) + list(range(600))


def test_aggregates_seed_every_ledger_table(store: SQLiteStore) -> None:
    records = varied_records()
    found = store.aggregates()
    assert found.total == summarize(records)
    assert found.by_model == group_records(records, "model")
    assert found.by_day == group_records(records, "day")
    assert {f"{k}={v}": s for (k, v), s in found.by_tag.items()} == group_records(records, "tag")


def test_a_tracker_reopened_after_the_first_is_gone_sees_past_usage(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    tracker = TokenTracker(store=path, prices=StubBook())
    with tracker.tag(feature="search"):
        tracker.track("gpt-4o", 1000, 100)
    tracker.track("gpt-4o-mini", 2000, 300)
    before = (tracker.usage, tracker.usage_by_model, tracker.usage_by_tag("feature"))
    del tracker
    gc.collect()  # the tracker's finalizer writes what is queued and closes the store

    reopened = TokenTracker(store=str(path), prices=StubBook())
    try:
        assert (reopened.usage, reopened.usage_by_model, reopened.usage_by_tag("feature")) == before
        assert reopened.records == []  # history is in the totals and the store, not in memory
        reopened.track("gpt-4o", 10, 1)
        assert reopened.usage.calls == 3
        assert [r.model for r in reopened.history()] == ["gpt-4o", "gpt-4o-mini", "gpt-4o"]
    finally:
        reopened.close()


def test_usage_between_and_since_query_the_store(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    with SQLiteStore(tmp_path / "u.db") as store:
        store.append(
            [
                record(at=now - timedelta(days=10), cost="1"),
                record(at=now - timedelta(days=2), cost="0.5", tags={"feature": "a"}),
                record(
                    at=now - timedelta(hours=1), cost="0.25", provider="anthropic", model="claude"
                ),
            ]
        )
    with TokenTracker(store=tmp_path / "u.db", prices=StubBook()) as tracker:
        tracker.track("gpt-4o", 1000, 0)  # priced by the stub: $0.0025
        assert tracker.usage.calls == 4
        assert tracker.usage_since(timedelta(days=7)).cost_usd == Decimal("0.7525")
        assert tracker.usage_since(timedelta(days=7), provider="anthropic").calls == 1
        assert tracker.usage_since(now - timedelta(days=3), model="claude").calls == 1
        assert tracker.usage_between(now - timedelta(days=11), now - timedelta(days=1)).calls == 2
        assert tracker.usage_between(None, now - timedelta(days=5)).cost_usd == Decimal(1)
        assert tracker.usage_between(None).calls == 4
        assert tracker.usage_since(timedelta(days=30), tags={"feature": "a"}).calls == 1


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


WRITER = textwrap.dedent(
    """
    import sys
    from tokenbudget import TokenTracker
    from tests.support import StubBook

    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with TokenTracker(store=path, prices=StubBook()) as tracker:
        for i in range(count):
            with tracker.tag(process=name):
                tracker.track("gpt-4o", 1000, 100)
    """
)


def test_two_processes_share_one_store(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    root = Path(__file__).resolve().parents[2]
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), name, "300"],
            cwd=root,
            env={"PYTHONPATH": str(root), **_env()},
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    errors = [_finish(process) for process in processes]  # every process waited for first
    for process, err in zip(processes, errors, strict=True):
        assert process.returncode == 0, err
        assert "could not write" not in err
    with SQLiteStore(path, create=False) as store:
        total = store.summary()
        assert total.calls == 600
        assert total.cost_usd == 600 * Decimal("0.0035")  # 1000 in at $2.50/M + 100 out at $10/M
        assert {k: s.calls for k, s in store.breakdown("tag:process").items()} == {
            "a": 300,
            "b": 300,
        }


def _finish(process: subprocess.Popen[str]) -> str:
    """Its stderr, once it has exited (killed after two minutes).

    A process left running when a test fails would be collected later with a
    ResourceWarning, which ``filterwarnings = error`` pins on an unrelated test.
    """
    try:
        return process.communicate(timeout=120)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[1] + "\n(killed after 120 s)"


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


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


def test_a_closed_store_says_so() -> None:
    store = SQLiteStore(":memory:")
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.summary()


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


def test_a_store_passed_in_stays_open_after_the_tracker_closes() -> None:
    store = SQLiteStore(":memory:")
    with TokenTracker(store=store, prices=StubBook()) as tracker:
        tracker.track("gpt-4o", 10, 1)
    assert store.summary().calls == 1
    store.close()


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


def test_an_estimate_keeps_its_reason_in_the_store(tmp_path: Path) -> None:
    estimated = record(estimated=True)
    assert estimated.usage.estimate_reason == "the answer reported no usage"
    with SQLiteStore(tmp_path / "u.db") as store:
        store.append([estimated, record()])
        back = list(store.records(Query()))
    assert [r.usage.estimate_reason for r in back] == ["the answer reported no usage", None]
    assert back[0] == estimated


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
