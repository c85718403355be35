"""Summary reads come from totals kept as calls arrive, and always equal a fold over the calls.

The ledger keeps its totals per provider, model, day and tag up to date instead
of summing every (provider, model, day, tags) combination on each read. Whatever
the calls, and wherever reads fall between them, every view must equal what
summing the records gives (``summarize`` / ``group_records``), a loaded history
included; and concurrent recording must lose nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tokenbudget import CallRecord, TokenTracker
from tokenbudget.store import Ledger, UsageAggregates, group_records, summarize

from ..support import record

costs = st.one_of(
    st.none(),
    st.decimals(min_value=0, max_value=100, places=8, allow_nan=False, allow_infinity=False).map(
        lambda d: format(d, "f")
    ),
)


@st.composite
def records(draw: st.DrawFn) -> CallRecord:
    cached = draw(st.booleans())
    return record(
        draw(st.sampled_from(["gpt-4o", "gpt-4o-mini", "claude-x", None])),
        draw(st.integers(0, 10_000)),
        draw(st.integers(0, 10_000)),
        draw(costs),
        provider=draw(st.sampled_from(["openai", "anthropic", "google"])),
        days=draw(st.integers(0, 3)),
        tags=draw(st.dictionaries(st.sampled_from("abc"), st.sampled_from(["1", "2", "x"]))),
        cached_input_tokens=0,
        cached=cached,
        saved=draw(costs) if cached else None,
        status=draw(st.sampled_from([200, 200, 429, None])),
        estimated=draw(st.booleans()),
    )


#: A call to record, or ``None``: read every view here.
steps = st.lists(st.one_of(records(), st.none()), max_size=40)


def record_steps(ledger: Ledger, items: Sequence[CallRecord | None]) -> list[CallRecord]:
    done = []
    for item in items:
        if item is None:
            read_all(ledger)
        else:
            ledger.record(item)
            done.append(item)
    return done


def read_all(ledger: Ledger) -> None:
    ledger.summary(), ledger.by_provider(), ledger.by_model(), ledger.by_day()
    ledger.by_tag(), ledger.by_tag("a")


def assert_views_fold(ledger: Ledger, done: Sequence[CallRecord]) -> None:
    assert ledger.summary() == summarize(done)
    # Same keys, same order (first call first) as a fold over the records.
    assert list(ledger.by_provider().items()) == list(group_records(done, "provider").items())
    assert list(ledger.by_model().items()) == list(group_records(done, "model").items())
    assert list(ledger.by_tag().items()) == list(group_records(done, "tag").items())
    for name in "abcd":
        assert ledger.by_tag(name) == group_records(done, f"tag:{name}")
    assert ledger.by_day() == dict(sorted(group_records(done, "day").items()))


@settings(max_examples=150)
@given(steps)
def test_every_view_equals_a_fold_over_the_records(items: list[CallRecord | None]) -> None:
    ledger = Ledger(max_tag_values=None)
    done = record_steps(ledger, items)
    assert_views_fold(ledger, done)


@settings(max_examples=60)
@given(steps, steps)
def test_views_on_a_loaded_history_equal_a_fold_over_all_calls(
    before: list[CallRecord | None], after: list[CallRecord | None]
) -> None:
    old = [item for item in before if item is not None]
    history = UsageAggregates(
        total=summarize(old),
        by_provider=group_records(old, "provider"),
        by_model=group_records(old, "model"),
        by_tag={tuple(k.split("=", 1)): s for k, s in group_records(old, "tag").items()},  # type: ignore[misc]
        by_day=group_records(old, "day"),
    )
    ledger = Ledger(max_tag_values=None)
    record_steps(ledger, after[: len(after) // 2])  # replaced by the history
    ledger.rebase(lambda: history)
    done = record_steps(ledger, after)
    assert_views_fold(ledger, old + done)


@settings(max_examples=40)
@given(steps)
def test_reset_forgets_what_the_views_counted(items: list[CallRecord | None]) -> None:
    ledger = Ledger(max_tag_values=None)
    record_steps(ledger, items)
    ledger.reset()
    assert_views_fold(ledger, [])
    done = record_steps(ledger, items)
    assert_views_fold(ledger, done)


def test_a_read_with_nothing_new_sums_nothing() -> None:
    # Before: every read summed all cells into new summaries.
    tracker = TokenTracker()
    for number in range(200):
        tracker.add_record(record(f"m{number}", tags={"team": str(number % 10)}))
    assert tracker.usage is tracker.usage
    models = tracker.usage_by_model
    tracker.add_record(record("m7", tags={"team": "3"}))
    again = tracker.usage_by_model
    assert again["m7"].calls == 2 and again["m7"] is not models["m7"]
    assert all(again[name] is models[name] for name in models if name != "m7")


def test_a_store_history_and_new_calls_add_up(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    first = [record("gpt-4o", tags={"a": "1"}), record("claude-x", cost=None, provider="anthropic")]
    with TokenTracker(store=f"sqlite:///{path}") as tracker:
        for item in first:
            tracker.add_record(item)
    later = [record("gpt-4o", tags={"a": "2"}, days=1), record("gpt-4o-mini", cached=True)]
    with TokenTracker(store=f"sqlite:///{path}") as tracker:
        assert tracker.usage == summarize(first)
        for item in later:
            tracker.add_record(item)
        assert tracker.usage == summarize(first + later)
        assert tracker.usage_by_model == group_records(first + later, "model")
        assert tracker.usage_by_provider == group_records(first + later, "provider")
        assert tracker.usage_by_tag("a") == group_records(first + later, "tag:a")


def test_concurrent_recording_and_reading_lose_nothing() -> None:
    ledger = Ledger(max_tag_values=None)
    threads, per_thread = 8, 400
    made = [
        [
            record(f"m{(worker * 7 + n) % 13}", n, 1, "0.001", tags={"w": str(n % 5)}, days=n % 2)
            for n in range(per_thread)
        ]
        for worker in range(threads)
    ]
    stop = threading.Event()
    seen: list[int] = []

    def read() -> None:
        while not stop.is_set():
            seen.append(ledger.summary().calls)
            read_all(ledger)

    def write(items: list[CallRecord]) -> None:
        for item in items:
            ledger.record(item)

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(items,)) for items in made]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reader.join()
    everything = [item for items in made for item in items]
    assert seen == sorted(seen)  # totals only grow
    assert ledger.summary().calls == threads * per_thread
    assert ledger.summary() == summarize(everything)
    assert ledger.by_model() == group_records(everything, "model")
    assert ledger.by_tag("w") == group_records(everything, "tag:w")
    assert ledger.by_day() == group_records(everything, "day")
