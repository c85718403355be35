"""Every usage store backend, SQLite and PostgreSQL, against the same tests.

Exact totals equal to the in-memory arithmetic under every query, exact money,
records in time order and paged, a tracker reopened on its history, range
queries, and four OS processes appending at once with no call lost or doubled.
"""

from __future__ import annotations

import os
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
def store(store_spec: str) -> UsageStore:
    with open_store(store_spec) as opened:
        opened.append(varied_records())
        yield opened  # type: ignore[misc]


@pytest.mark.parametrize("query", QUERIES)
def test_store_totals_equal_the_ledger_arithmetic(store: UsageStore, query: Query) -> None:
    memory = RecordsSource(varied_records())
    assert store.summary(query) == memory.summary(query)
    for by in ("provider", "model", "day", "tag", "tag:feature"):
        assert store.breakdown(by, query) == memory.breakdown(by, query), by


def test_groups_come_in_byte_order(store: UsageStore) -> None:
    store.append([record(model="B-upper"), record(model="a-lower"), record(model="_under")])
    keys = list(store.breakdown("model"))
    assert keys == sorted(keys)


def test_money_is_summed_exactly(store_spec: str) -> None:
    tenths = [record(cost="0.1") for _ in range(10)]
    with open_store(store_spec) as store:
        store.append(tenths)
        assert store.summary().cost_usd == Decimal(1)
        assert sum(float(r.cost_usd or 0) for r in tenths) != 1.0  # a float SUM drifts
        store.append([record(cost="0.000000001")] * 3)
        assert store.summary().cost_usd == Decimal("1.000000003")


def test_records_come_back_equal_and_in_time_order(store: UsageStore) -> None:
    expected = sorted(varied_records(), key=lambda r: r.timestamp)
    assert list(store.records()) == expected
    first = next(store.records(Query(tags={"feature": "search"})))
    assert first.raw_usage == {"a": 1} and first.price_version == "stub-1"


def test_ranges_are_half_open_and_dates_are_utc_days(store_spec: str) -> None:
    with open_store(store_spec) as store:
        store.append([record(at=datetime(2026, 1, 5, tzinfo=timezone.utc)), record()])
        assert store.summary(Query.build(date(2026, 1, 5), date(2026, 1, 6))).calls == 2
        midnight = datetime(2026, 1, 5)  # naive means UTC
        assert store.summary(Query.build(None, midnight)).calls == 0
        assert store.summary(Query.build(midnight, midnight + timedelta(hours=12))).calls == 1
        assert list(store.breakdown("day")) == ["2026-01-05"]


def test_paging_returns_every_record_once(store_spec: str) -> None:
    same_time = [record(input_tokens=i) for i in range(700)]
    later = [record(input_tokens=i, days=1) for i in range(600)]
    with open_store(store_spec) as store:
        store.append(same_time)
        store.append(later)
        seen = [r.input_tokens for r in store.records()]
    assert seen == list(range(700)) + list(range(600))


def test_aggregates_seed_every_ledger_table(store: UsageStore) -> None:
    records = varied_records()
    found = store.aggregates()
    assert found.total == summarize(records)
    assert found.by_model == group_records(records, "model")
    assert found.by_day == group_records(records, "day")
    assert {f"{k}={v}": s for (k, v), s in found.by_tag.items()} == group_records(records, "tag")


def test_a_tracker_reopened_after_the_first_is_gone_sees_past_usage(store_spec: str) -> None:
    tracker = TokenTracker(store=store_spec, prices=StubBook())
    with tracker.tag(feature="search"):
        tracker.track("gpt-4o", 1000, 100)
    tracker.track("gpt-4o-mini", 2000, 300)
    before = (tracker.usage, tracker.usage_by_model, tracker.usage_by_tag("feature"))
    tracker.close()

    reopened = TokenTracker(store=store_spec, prices=StubBook())
    try:
        assert (reopened.usage, reopened.usage_by_model, reopened.usage_by_tag("feature")) == before
        assert reopened.records == []  # history is in the totals and the store, not in memory
        reopened.track("gpt-4o", 10, 1)
        assert reopened.usage.calls == 3
        assert [r.model for r in reopened.history()] == ["gpt-4o", "gpt-4o-mini", "gpt-4o"]
    finally:
        reopened.close()


def test_usage_between_and_since_query_the_store(store_spec: str) -> None:
    now = datetime.now(timezone.utc)
    with open_store(store_spec) as store:
        store.append(
            [
                record(at=now - timedelta(days=10), cost="1"),
                record(at=now - timedelta(days=2), cost="0.5", tags={"feature": "a"}),
                record(
                    at=now - timedelta(hours=1), cost="0.25", provider="anthropic", model="claude"
                ),
            ]
        )
    with TokenTracker(store=store_spec, prices=StubBook()) as tracker:
        tracker.track("gpt-4o", 1000, 0)  # priced by the stub: $0.0025
        assert tracker.usage.calls == 4
        assert tracker.usage_since(timedelta(days=7)).cost_usd == Decimal("0.7525")
        assert tracker.usage_since(timedelta(days=7), provider="anthropic").calls == 1
        assert tracker.usage_since(now - timedelta(days=3), model="claude").calls == 1
        assert tracker.usage_between(now - timedelta(days=11), now - timedelta(days=1)).calls == 2
        assert tracker.usage_between(None, now - timedelta(days=5)).cost_usd == Decimal(1)
        assert tracker.usage_between(None).calls == 4
        assert tracker.usage_since(timedelta(days=30), tags={"feature": "a"}).calls == 1


def test_a_closed_store_says_so(store_spec: str) -> None:
    store = open_store(store_spec)
    store.summary()
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.summary()


def test_a_store_passed_in_stays_open_after_the_tracker_closes(store_spec: str) -> None:
    store = open_store(store_spec)
    with TokenTracker(store=store, prices=StubBook()) as tracker:
        tracker.track("gpt-4o", 10, 1)
    assert store.summary().calls == 1
    store.close()


def test_an_estimate_keeps_its_reason_in_the_store(store_spec: str) -> None:
    estimated = record(estimated=True)
    assert estimated.usage.estimate_reason == "the answer reported no usage"
    with open_store(store_spec) as store:
        store.append([estimated, record()])
        back = list(store.records(Query()))
    assert [r.usage.estimate_reason for r in back] == ["the answer reported no usage", None]
    assert back[0] == estimated


def test_opening_without_create_needs_an_existing_store(store_spec: str) -> None:
    with pytest.raises(StoreError, match=r"no such file|no tokenbudget usage store"):
        open_store(store_spec, create=False).summary()
    with open_store(store_spec) as made:
        made.append([record()])
    with open_store(store_spec, create=False) as found:
        assert found.summary().calls == 1


PROCESSES = 4
CALLS_EACH = 500

WRITER = textwrap.dedent(
    """
    import dataclasses, sys
    from tokenbudget import TokenTracker
    from tests.support import StubBook, record

    spec, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with TokenTracker(store=spec, prices=StubBook()) as tracker:
        for i in range(count):
            with tracker.tag(process=name):
                tracker.track("gpt-4o", 1000, 100)
            tracker.add_record(dataclasses.replace(record(), request_id=f"{name}-{i}"))
    """
)


def test_four_processes_append_at_once_and_no_call_is_lost_or_doubled(
    store_spec: str, tmp_path: Path
) -> None:
    root = Path(__file__).resolve().parents[2]
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    names = [f"p{n}" for n in range(PROCESSES)]
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), store_spec, name, str(CALLS_EACH)],
            cwd=root,
            env={**_env(), "PYTHONPATH": str(root)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    errors = [_finish(process) for process in processes]  # every process waited for first
    for process, err in zip(processes, errors, strict=True):
        assert process.returncode == 0, err
        assert "could not write" not in err
    with open_store(store_spec, create=False) as store:
        total = store.summary()
        expected = PROCESSES * CALLS_EACH * 2
        assert total.calls == expected
        tracked = store.breakdown("tag:process")
        assert {k: s.calls for k, s in tracked.items()} == dict.fromkeys(names, CALLS_EACH)
        assert sum(s.cost_usd for s in tracked.values()) == (
            PROCESSES * CALLS_EACH * Decimal("0.0035")  # 1000 in at $2.50/M + 100 out at $10/M
        )
        ids = [r.request_id for r in store.records() if r.request_id is not None]
    assert len(ids) == len(set(ids)) == PROCESSES * CALLS_EACH
    assert set(ids) == {f"{name}-{i}" for name in names for i in range(CALLS_EACH)}


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
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
