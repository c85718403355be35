"""High-cardinality tags: aggregates keep at most ``max_tag_values`` values per tag name.

A tag with a new value on every call (a request id) must not grow a tracker's
memory with each call: past the cap, new values are counted under ``"(other)"``
(warned about once per tag name), totals stay exact, and the store keeps the
real tags. Memory is measured by counting the ledger's running totals.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenbudget import TokenTracker
from tokenbudget.store import OTHER_TAG_VALUE, Ledger, SQLiteStore

from ..support import record


def test_a_unique_tag_per_call_keeps_the_cells_bounded(caplog: pytest.LogCaptureFixture) -> None:
    tracker = TokenTracker(max_tag_values=50)
    for number in range(5_000):
        tracker.track("gpt-4o", 10, 5, tags={"request_id": str(number), "team": "a"})
    by_id = tracker.usage_by_tag("request_id")
    assert len(by_id) == 51 and by_id[OTHER_TAG_VALUE].calls == 5_000 - 50
    assert tracker.usage.calls == 5_000 and tracker.usage_by_tag("team")["a"].calls == 5_000
    assert caplog.text.count("request_id") == 1  # one warning per tag name


def test_the_default_cap_is_documented_and_bounded() -> None:
    ledger = Ledger()
    for number in range(ledger.max_tag_values + 500):
        ledger.record(record(tags={"id": str(number)}))
    assert ledger.cell_count == ledger.max_tag_values + 1


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.dictionaries(st.sampled_from("abc"), st.text(max_size=3), max_size=3), max_size=60),
    st.integers(min_value=1, max_value=5),
)
def test_folding_keeps_every_total_exact(tags: list[dict[str, str]], cap: int) -> None:
    capped, exact = Ledger(max_tag_values=cap), Ledger(max_tag_values=None)
    for found in tags:
        capped.record(record(tags=found))
        exact.record(record(tags=found))
    assert capped.summary() == exact.summary()
    for name in "abc":
        table = capped.by_tag(name)
        assert len(table) <= cap + 1
        assert sum(s.calls for s in table.values()) == sum(
            s.calls for s in exact.by_tag(name).values()
        )
        kept = {value for value in table if value != OTHER_TAG_VALUE}
        assert all(table[v] == exact.by_tag(name)[v] for v in kept)


def test_the_store_keeps_the_real_tags(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    with TokenTracker(store=path, max_tag_values=3) as tracker:
        for number in range(10):
            tracker.track("gpt-4o", 10, 5, tags={"request_id": str(number)})
        assert len(tracker.usage_by_tag("request_id")) == 4
        assert [r.tags["request_id"] for r in tracker.history()] == [str(n) for n in range(10)]
    with SQLiteStore(path, create=False) as store:
        assert len(store.breakdown("tag:request_id")) == 10
    with TokenTracker(store=path, max_tag_values=3) as reopened:  # seeded from the store
        table = reopened.usage_by_tag("request_id")
        assert len(table) == 4 and sum(s.calls for s in table.values()) == 10
