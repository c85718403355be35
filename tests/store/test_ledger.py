"""The Ledger through the tracker's results API, without any HTTP: totals, window, callbacks."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from tokenbudget import CallRecord, TokenTracker, tag

from ..support import StubBook, cost


@pytest.fixture
def tracker() -> TokenTracker:
    return TokenTracker(prices=StubBook(), max_records=10)


def test_manual_track_is_priced(tracker: TokenTracker) -> None:
    record = tracker.track("gpt-4o", 1000, 500, provider="openai")
    assert record.cost_usd == cost("gpt-4o", 1000, 500) == Decimal("0.0075")
    assert tracker.usage.total_tokens == 1500
    assert tracker.total_cost == Decimal("0.0075")
    assert tracker.total_cost_usd == pytest.approx(0.0075)
    assert repr(tracker.usage) == "Usage(total_tokens=1500, total_cost_usd=0.0075, calls=1)"


def test_unknown_model_is_unpriced_not_free(tracker: TokenTracker) -> None:
    tracker.track("my-private-model", 10, 10, provider="openai")
    tracker.track("gpt-4o", 1000, 0, provider="openai")
    summary = tracker.usage
    assert summary.unpriced_calls == 1
    assert summary.cost_usd == cost("gpt-4o", 1000, 0)
    assert tracker.records[0].cost_usd is None and not tracker.records[0].priced


def test_records_are_bounded_but_totals_exact(tracker: TokenTracker) -> None:
    for _ in range(25):
        tracker.track("gpt-4o", 10, 1, provider="openai")
    assert len(tracker.records) == 10
    assert tracker.usage.calls == 25
    assert tracker.usage.total_tokens == 275


def test_breakdowns(tracker: TokenTracker) -> None:
    tracker.track("gpt-4o", 100, 10, provider="openai")
    tracker.track("gpt-4o-mini", 100, 10, provider="openai")
    tracker.track("gpt-4o", 100, 10, provider="azure")
    assert {k: v.calls for k, v in tracker.usage_by_provider.items()} == {"openai": 2, "azure": 1}
    assert {k: v.calls for k, v in tracker.usage_by_model.items()} == {
        "gpt-4o": 2,
        "gpt-4o-mini": 1,
    }


def test_tags_label_calls_and_nest(tracker: TokenTracker) -> None:
    with tracker.tag(feature="search"):
        tracker.track("gpt-4o", 10, 1, provider="openai")
        with tag(user_tier="free"):
            tracker.track("gpt-4o", 10, 1, provider="openai")
    tracker.track("gpt-4o", 10, 1, provider="openai")
    assert [dict(r.tags) for r in tracker.records] == [
        {"feature": "search"},
        {"feature": "search", "user_tier": "free"},
        {},
    ]
    assert {k: v.calls for k, v in tracker.usage_by_tag("feature").items()} == {"search": 2}
    assert set(tracker.usage_by_tag()) == {"feature=search", "user_tier=free"}


def test_tags_do_not_leak_into_other_threads(tracker: TokenTracker) -> None:
    with tracker.tag(feature="search"):
        worker = threading.Thread(target=tracker.track, args=("gpt-4o", 1, 1, "openai"))
        worker.start()
        worker.join()
    assert dict(tracker.records[-1].tags) == {}


def test_on_record_callbacks_and_a_failing_one(
    tracker: TokenTracker, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[CallRecord] = []

    @tracker.on_record
    def broken(record: CallRecord) -> None:
        raise RuntimeError("callback bug")

    tracker.on_record(seen.append)
    tracker.track("gpt-4o", 1, 1, provider="openai")
    assert len(seen) == 1 and tracker.usage.calls == 1
    assert "on_record callback" in caplog.text


def test_reset(tracker: TokenTracker) -> None:
    tracker.track("gpt-4o", 1, 1, provider="openai")
    tracker.reset()
    assert tracker.usage.calls == 0 and tracker.records == []
    assert tracker.last_record is None
