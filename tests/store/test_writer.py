"""The background writer: the LLM call never waits for or breaks on the store; nothing is lost."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from tokenbudget import CallRecord, TokenTracker
from tokenbudget.store import SQLiteStore, StoreWriter
from tokenbudget.testing import FakeLLM

from ..support import StubBook, record
from .helpers import FlakyStore


def _wait(condition: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_failing_store_never_breaks_the_call_and_catches_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FlakyStore()
    fake = FakeLLM(reply="Fine.")
    tracker = TokenTracker(store=store, prices=StubBook())
    with tracker.httpx_client(transport=fake) as client:
        for _ in range(3):
            answer = client.post(
                "https://api.openai.com/v1/chat/completions",
                json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]},
            )
            assert answer.status_code == 200
    assert tracker.usage.calls == 3  # counted in memory meanwhile
    assert not tracker.flush(timeout=1)  # failing: returns at once instead of stalling
    _wait(lambda: store.attempts >= 2)
    warnings = [r for r in caplog.records if "could not write" in r.getMessage()]
    assert len(warnings) == 1  # logged once, not once per retry
    assert warnings[0].levelno == logging.WARNING

    store.failing = False
    _wait(lambda: tracker.flush(timeout=1))  # the writer's next retry succeeds
    assert store.summary().calls == 3
    assert "works again" in caplog.text
    tracker.close()
    store.close()


class _Gate(SQLiteStore):
    """Blocks the first write until released, so the queue can fill behind it."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.entered = threading.Event()
        self.release = threading.Event()

    def append(self, records: Sequence[CallRecord]) -> None:
        self.entered.set()
        self.release.wait(10)
        super().append(records)


def test_a_full_queue_drops_the_oldest_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    store = _Gate()
    writer = StoreWriter(store, max_pending=5)
    writer.put(record(input_tokens=0))
    assert store.entered.wait(5)  # the first record is being written, the rest queue up
    for index in range(1, 8):
        writer.put(record(input_tokens=index))
    assert writer.dropped == 2
    assert "were dropped" in caplog.text
    store.release.set()
    assert writer.flush(10)
    assert [r.input_tokens for r in store.records()] == [0, 3, 4, 5, 6, 7]
    assert writer.close() == 0
    store.close()


def test_close_writes_what_is_queued(tmp_path: Path) -> None:
    tracker = TokenTracker(store=tmp_path / "u.db", prices=StubBook())
    for _ in range(50):
        tracker.track("gpt-4o", 10, 1)
    tracker.close()
    tracker.close()  # idempotent
    with SQLiteStore(tmp_path / "u.db", create=False) as store:
        assert store.summary().calls == 50


def test_calls_after_close_are_counted_in_memory_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = TokenTracker(store=tmp_path / "u.db", prices=StubBook())
    tracker.close()
    tracker.track("gpt-4o", 10, 1)
    assert tracker.usage.calls == 1
    with SQLiteStore(tmp_path / "u.db", create=False) as store:
        assert store.summary().calls == 0
    writer = StoreWriter(SQLiteStore(":memory:"))
    writer.close()
    writer.put(record())  # a late put on a closed writer: logged once, never raised
    writer.put(record())
    assert caplog.text.count("is closed") == 1


def test_close_gives_up_on_a_dead_store_and_reports_the_unsaved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FlakyStore()
    writer = StoreWriter(store)
    writer.put(record())
    writer.put(record())
    assert writer.close(timeout=0.3) == 2
    assert "2 call records could not be written" in caplog.text
    store.close()


def test_recording_never_waits_for_the_store() -> None:
    """A call's share of a store write is a queue append: the store can be stuck."""
    store = _Gate()
    tracker = TokenTracker(store=store, prices=StubBook())
    tracker.add_record(record())
    assert store.entered.wait(5)  # the writer is stuck in the store's write
    for _ in range(100):
        tracker.add_record(record())  # returns at once: no call waits for the stuck write
    assert tracker.usage.calls == 101
    store.release.set()
    assert tracker.flush(10)
    assert store.summary().calls == 101
    tracker.close()
    store.close()
