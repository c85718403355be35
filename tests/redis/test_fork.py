"""A tracker with a Redis store and a shared Redis budget, made before ``fork``.

Real forked workers (multiprocessing, fork start method) call through a real
openai client over FakeLLM; the parent then reads Redis: every call is counted
once in the store and once in the budget, and the parent's open connections
were not shared with the children (redis-py reconnects in a child, and the
backend forgets what belongs to the parent).
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from tokenbudget import TokenTracker, budget
from tokenbudget.budgets import Amount
from tokenbudget.redis import RedisBackend, RedisStore
from tokenbudget.testing import FakeLLM

from ..support import record, run_forked
from .helpers import chat, client

_FORK = multiprocessing.get_context("fork")
WORKERS = 2
CALLS = 50


def _worker(tracker: TokenTracker) -> None:
    sdk = client(tracker, FakeLLM(reply="one two three"))
    for _ in range(CALLS):
        chat(sdk)
    tracker.budgets[0].backend.flush()  # type: ignore[attr-defined]


def test_forked_workers_count_every_call_once_in_redis(redis_url: str) -> None:
    shared = budget(max_cost_usd=10, key="forked", backend=redis_url)
    tracker = TokenTracker(store=redis_url, budgets=[shared])
    chat(client(tracker, FakeLLM(reply="one two three")))  # the parent's pool is in use
    run_forked(_worker, tracker, workers=WORKERS)
    assert tracker.flush()
    with RedisStore.from_url(redis_url, create=False) as store:
        assert store.summary().calls == 1 + WORKERS * CALLS
    assert shared.current_usage.calls == 1 + WORKERS * CALLS
    tracker.close()


def _pending_in_child(backend: RedisBackend, results: Any) -> None:
    results.put((backend.pending, backend.read("").usage.calls))


def test_settlements_waiting_in_the_parent_are_not_sent_by_a_child() -> None:
    backend = RedisBackend(url="redis://127.0.0.1:1/0", key="away", retry_after=0.01)
    backend.settle("", Amount(), record())  # Redis is away: it waits in the outbox
    assert backend.pending == 1
    results = _FORK.Queue()
    child = _FORK.Process(target=_pending_in_child, args=(backend, results))
    child.start()
    waiting, seen_calls = results.get(timeout=60)
    child.join(60)
    assert (waiting, seen_calls) == (0, 0)  # the parent's to send, and not counted twice
    assert backend.pending == 1 and backend.read("").usage.calls == 1
    backend.close()
