"""A worker process of the multi-process test: 50 threads calling under one shared budget.

Run by ``multiprocessing`` (spawn) from ``test_processes.py``; returns its
call records (as dicts) and its refusals through a queue.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from tokenbudget import TokenBudgetError, TokenTracker, budget
from tokenbudget.store import record_to_dict
from tokenbudget.testing import FakeLLM

from .helpers import chat, client

#: Calls each thread makes, one after the other.
ATTEMPTS = 3
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]


def replies(seed: int) -> Any:
    """Replies of 5 to 40 words, each after a few milliseconds (calls overlap)."""
    pick = random.Random(seed)
    lock = threading.Lock()

    def reply(request: Any) -> str:
        with lock:
            count, pause = pick.randint(5, 40), pick.uniform(0.002, 0.02)
        time.sleep(pause)
        return " ".join(pick.choice(WORDS) for _ in range(count))

    return reply


def work(url: str, key: str, limit: str, calls: int, seed: int, start: Any, out: Any) -> None:
    """Run ``calls`` threads of :data:`ATTEMPTS` calls each; put the results on ``out``."""
    shared = budget(max_cost_usd=limit, key=key, backend=url, preflight="worst_case", name=key)
    tracker = TokenTracker(store=url, budgets=[shared])
    sdk = client(tracker, FakeLLM(reply=replies(seed)))
    go = threading.Barrier(calls)
    refused: list[str] = []

    def one() -> None:
        go.wait()
        for _ in range(ATTEMPTS):  # after a refusal, try again: held calls may settle for less
            try:
                chat(sdk, max_tokens=60)
            except TokenBudgetError as error:
                refused.append(error.reason or "")
                time.sleep(0.01)

    threads = [threading.Thread(target=one) for _ in range(calls)]
    start.wait()  # every process starts its calls together
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = [record_to_dict(record) for record in tracker.records]
    tracker.close()  # writes what is queued for the store
    out.put({"records": records, "refused": refused, "pending": shared.backend.pending})  # type: ignore[attr-defined]
