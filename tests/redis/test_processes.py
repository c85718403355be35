"""8 processes x 50 concurrent calls (3 in a row each) against one shared budget in Redis.

Under ``preflight="worst_case"`` no call is admitted unless spent + held + its
worst case fits, so the processes together never overshoot; every call they
make is counted exactly once in the budget and in the Redis usage store.
"""

from __future__ import annotations

import multiprocessing
from decimal import Decimal

from tokenbudget.redis import RedisBackend, RedisStore
from tokenbudget.store import group_records, record_from_dict, summarize

from .workers import ATTEMPTS, work

PROCESSES, CALLS = 8, 50
LIMIT = Decimal("0.05")  # about a sixth of what the 1,200 calls would cost


def test_processes_never_overshoot_and_the_ledger_is_exact(redis_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(PROCESSES), context.Queue()
    workers = [
        context.Process(
            target=work, args=(redis_url, "team-a:gpt5", str(LIMIT), CALLS, seed, start, out)
        )
        for seed in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    results = [out.get(timeout=120) for _ in workers]
    for process in workers:
        process.join(30)
        assert process.exitcode == 0

    records = [record_from_dict(data) for result in results for data in result["records"]]
    refused = [reason for result in results for reason in result["refused"]]
    assert len(records) + len(refused) == PROCESSES * CALLS * ATTEMPTS
    assert records and refused and set(refused) <= {"preflight", "exceeded"}
    assert all(result["pending"] == 0 for result in results)

    spent = summarize(records)
    assert 0 < spent.cost_usd <= LIMIT
    assert spent.cost_usd > LIMIT * Decimal("0.9")  # the limit, not the test, stopped them

    account = RedisBackend(url=redis_url, key="team-a:gpt5").read("")
    assert account.usage == spent and account.reserved.cost_usd == 0

    store = RedisStore(url=redis_url)
    assert store.summary() == spent
    assert store.breakdown("model") == group_records(records, "model")
    assert store.breakdown("day") == group_records(records, "day")
