"""A worker process of the multi-process test: 50 threads calling under one shared budget.

Run by ``multiprocessing`` (spawn) from ``test_processes.py``; returns its
call records (as dicts) and its refusals through a queue.

Deterministic under any load: each thread calls until the budget's limit itself
refuses it (what is spent plus the call's worst case passes the limit), not a
fixed number of times (a refusal caused by holds of calls in flight is retried),
and Redis waits are long (a loaded machine must not make Redis look "away").
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

#: At most this many attempts per thread (a safety net: the limit stops them long before).
MAX_ATTEMPTS = 500
#: Seconds a worker waits for Redis: the test is about the limit, not about outages.
PATIENT = "socket_timeout=60&socket_connect_timeout=60"
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
    """Run ``calls`` threads calling until the limit refuses them; put the results on ``out``."""
    url = f"{url}?{PATIENT}"
    shared = budget(max_cost_usd=limit, key=key, backend=url, preflight="worst_case", name=key)
    tracker = TokenTracker(store=url, budgets=[shared])
    sdk = client(tracker, FakeLLM(reply=replies(seed)))
    go = threading.Barrier(calls)
    refused: list[str] = []
    #: Per thread that stopped: the estimate the limit refused (``None``: it gave up).
    stops: list[str | None] = []

    def one() -> None:
        go.wait()
        for _ in range(MAX_ATTEMPTS):
            try:
                chat(sdk, max_tokens=60)
            except TokenBudgetError as error:
                refused.append(error.reason or "")
                if _full(error):
                    stops.append(str(error.estimate))
                    return
                time.sleep(0.005)  # refused for holds in flight: they may settle for less
        stops.append(None)

    threads = [threading.Thread(target=one) for _ in range(calls)]
    start.wait()  # every process starts its calls together
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = [record_to_dict(record) for record in tracker.records]
    tracker.close()  # writes what is queued for the store
    pending = shared.backend.pending  # type: ignore[attr-defined]
    out.put({"records": records, "refused": refused, "stops": stops, "pending": pending})


def _full(error: TokenBudgetError) -> bool:
    """Whether the limit itself refused: spent plus this call's worst case passes it."""
    if error.reason == "exceeded":
        return True
    spent, estimate, limit = error.spent, error.estimate, error.limit
    return None not in (spent, estimate, limit) and spent + estimate > limit  # type: ignore[operator]
