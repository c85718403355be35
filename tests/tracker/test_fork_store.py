"""A tracker with a SQLite store made before ``fork``: every worker's calls reach the file once.

What gunicorn ``--preload``, celery prefork and ``multiprocessing`` with the fork
start method do: build the app (and its tracker) once, then fork workers that
make the calls. The workers here are real forked processes calling through a
real openai client on a mock transport; they return without closing anything,
as a multiprocessing worker does.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import openai

from tokenbudget import CallRecord, TokenTracker
from tokenbudget.store import SQLiteStore

from ..support import json_answer, run_forked, sync_client

_FORK = multiprocessing.get_context("fork")
WORKERS = 2
CALLS = 50


class HeldStore(SQLiteStore):
    """A SQLite store whose writes wait, in the process that made it, until ``release``."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.owner = os.getpid()
        self.release = threading.Event()

    def append(self, records: Sequence[CallRecord]) -> None:
        if os.getpid() == self.owner:
            self.release.wait(30)
        super().append(records)


def _calls(tracker: TokenTracker, count: int) -> None:
    http = sync_client(tracker, "httpx2", json_answer("httpx2"))
    client = openai.OpenAI(api_key="sk-test", http_client=http)
    for _ in range(count):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def _worker(tracker: TokenTracker) -> None:
    _calls(tracker, CALLS)


def _run_workers(tracker: TokenTracker) -> None:
    run_forked(_worker, tracker, workers=WORKERS)


def test_forked_workers_write_every_call_once(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    store = HeldStore(path)
    tracker = TokenTracker(store=store)
    _calls(tracker, 10)  # queued in the parent, not yet written at the fork
    _run_workers(tracker)
    store.release.set()
    tracker.close()
    store.close()
    with SQLiteStore(path, create=False) as reopened:
        assert reopened.summary().calls == 10 + WORKERS * CALLS


def test_a_store_opened_from_a_path_before_fork_keeps_every_worker_call(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    tracker = TokenTracker(store=path)
    _run_workers(tracker)
    tracker.close()
    with SQLiteStore(path, create=False) as reopened:
        assert reopened.summary().calls == WORKERS * CALLS


def test_a_fork_waits_for_a_store_transaction_to_end(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "usage.db")
    events: list[str] = []
    inside, finish = threading.Event(), threading.Event()

    def writing() -> None:
        with store._db.transaction("a long write"):  # the unit under test: the lock held
            inside.set()
            finish.wait(30)
            events.append("committed")

    def forking() -> None:
        child = _FORK.Process(target=os.getpid)
        child.start()
        events.append("forked")
        child.join(60)

    writer = threading.Thread(target=writing)
    writer.start()
    inside.wait(30)
    forker = threading.Thread(target=forking)
    forker.start()
    # Give an unguarded fork every chance to happen first (this wait decides nothing by
    # itself: with the guard the fork cannot happen before the commit, however long).
    deadline = time.monotonic() + 0.5
    while "forked" not in events and time.monotonic() < deadline:
        time.sleep(0.01)
    finish.set()
    writer.join(30)
    forker.join(60)
    assert events == ["committed", "forked"]
    store.close()
