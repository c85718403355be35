"""However a streamed call ends through the SDK, it is recorded once and its budget hold released.

Dropped without reading or closing, left with ``break``, stopped at the
provider's final event: each through the real openai SDK, sync and async, over
both httpx families.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from decimal import Decimal
from typing import Any

import pytest

from tokenbudget import TokenTracker, budget
from tokenbudget.budgets import Budget

from ..support import StubBook, fixture_bytes, resolve
from .helpers import MESSAGES, Pieces, openai_client, split, streamed

STREAM = fixture_bytes("openai/chat_stream.sse")


def pieces(family: str) -> Any:
    return streamed(family, Pieces(split(STREAM, 200)))


def worst_case() -> Budget:
    return budget(max_cost_usd=1, preflight="worst_case", default_max_output=1000)


def assert_released(scope: Budget) -> None:
    state = scope.state
    assert state.reserved.cost_usd == 0 and state.reserved.tokens == 0
    assert state.usage.calls == 1


async def test_a_stream_dropped_unread_is_recorded_when_collected(family: str, mode: str) -> None:
    tracker = TokenTracker(prices=StubBook())
    handler = pieces(family)
    client = openai_client(tracker, family, mode, handler)
    with worst_case() as scope:
        stream = await resolve(
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        )
        assert scope.state.reserved.cost_usd > 0
        del stream
        gc.collect()

        assert tracker.usage.calls == 1
        assert_released(scope)
    record = tracker.records[-1]
    assert record.error == "abandoned" and record.estimated
    assert record.usage.input_tokens == 8 and record.usage.output_tokens == 0


async def test_a_stream_left_with_break_is_recorded_when_collected(family: str, mode: str) -> None:
    tracker = TokenTracker(prices=StubBook())
    handler = pieces(family)
    client = openai_client(tracker, family, mode, handler)
    with worst_case() as scope:
        stream = await resolve(
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        )
        if mode == "async":
            async for _ in stream:
                break
        else:
            for _ in stream:
                break
        del stream
        if mode == "async":
            # The loop closes the SDK's outer iterator, which still holds the stream:
            # one turn creates the closing task, the next runs it.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        gc.collect()

        assert tracker.usage.calls == 1
        assert_released(scope)
    assert tracker.records[-1].error == "abandoned"


def test_a_dropped_stream_is_recorded_once_whatever_closes_it_later(family: str) -> None:
    tracker = TokenTracker(prices=StubBook())
    handler = pieces(family)
    client = openai_client(tracker, family, "sync", handler)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    next(stream)
    response = stream.response
    del stream
    gc.collect()
    response.close()  # what an SDK or a pool may still do with the response it kept
    gc.collect()

    assert tracker.usage.calls == 1 and len(tracker.records) == 1
    assert tracker.total_cost > Decimal(0)


@pytest.mark.parametrize("read", ["all", "closed"])
def test_a_stream_read_or_closed_is_not_recorded_again_when_collected(
    family: str, read: str
) -> None:
    tracker = TokenTracker(prices=StubBook())
    handler = pieces(family)
    client = openai_client(tracker, family, "sync", handler)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    if read == "all":
        list(stream)
    else:
        stream.close()
    del stream
    gc.collect()

    assert tracker.usage.calls == 1
    assert (tracker.records[-1].error is None) == (read == "all")


def test_a_stream_collected_while_its_thread_holds_the_ledgers_lock_does_not_hang(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector may run inside the ledger's lock, where recording in place would deadlock.

    Private names: the unit under test is the hand-over of a dropped call (``_reaper``),
    and the only way to make the collector run inside that lock is to hold it.
    """
    from tokenbudget._adapters import _reaper

    monkeypatch.setattr(_reaper, "RECORD_WAIT", 0.2)
    recorded = threading.Event()
    tracker = TokenTracker(prices=StubBook(), on_record=lambda record: recorded.set())
    client = openai_client(tracker, family, "sync", pieces(family))
    held = [client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)]
    lock = tracker._ledger._lock

    def collect_inside_the_lock() -> None:
        with lock:
            held.clear()
            gc.collect()

    thread = threading.Thread(target=collect_inside_the_lock, daemon=True)
    thread.start()
    thread.join(30)

    assert not thread.is_alive(), "the collector deadlocked on the ledger's lock"
    assert recorded.wait(30)
    assert tracker.usage.calls == 1 and tracker.records[-1].error == "abandoned"


def test_a_stream_collected_by_the_recording_thread_does_not_stall_it(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector may also run in the thread recording dropped calls (here: in a callback)."""
    from tokenbudget._adapters import _reaper

    second: list[Any] = []
    release, both = threading.Event(), threading.Event()

    def on_record(record: Any) -> None:
        if second:
            release.wait(20)  # until the collection that dropped the first stream is over
            second.clear()
            gc.collect()  # drops the second stream: collected in the recording thread
        elif tracker.usage.calls == 2:
            both.set()

    tracker = TokenTracker(prices=StubBook(), on_record=on_record)
    client = openai_client(tracker, family, "sync", pieces(family))
    first = [client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)]
    second.append(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    )
    monkeypatch.setattr(_reaper, "RECORD_WAIT", 0.01)  # the first finalizer stops waiting
    first.clear()
    gc.collect()
    monkeypatch.setattr(_reaper, "RECORD_WAIT", 60.0)
    release.set()

    assert both.wait(20), "the recording thread waited for itself"
    assert [record.error for record in tracker.records] == ["abandoned", "abandoned"]
