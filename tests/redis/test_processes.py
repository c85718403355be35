"""8 processes x 50 threads calling against one shared budget in Redis until it is full.

Under ``preflight="worst_case"`` no call is admitted unless spent + held + its
worst case fits, so the processes together never overshoot; every call they
make is counted exactly once in the budget and in the Redis usage store. Each
thread stops only when the limit itself refuses it (see ``workers``), so the
outcome does not depend on how loaded the machine is.
"""

from __future__ import annotations

import multiprocessing
from decimal import Decimal

from tokenbudget.redis import RedisBackend, RedisStore
from tokenbudget.store import group_records, record_from_dict, summarize

from .workers import work

PROCESSES, CALLS = 8, 50
LIMIT = Decimal("0.05")  # a few hundred calls' worth


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
    stops = [stop for result in results for stop in result["stops"]]
    assert records and set(refused) <= {"preflight", "exceeded"}
    assert len(stops) == PROCESSES * CALLS and None not in stops  # the limit stopped each
    assert all(result["pending"] == 0 for result in results)

    spent = summarize(records)
    assert 0 < spent.cost_usd <= LIMIT
    # Each thread stopped when spent + its worst case passed the limit; spent only grew since.
    assert spent.cost_usd + min(Decimal(stop) for stop in stops if stop) > LIMIT

    account = RedisBackend(url=redis_url, key="team-a:gpt5").read("")
    assert account.usage == spent and account.reserved.cost_usd == 0

    store = RedisStore(url=redis_url)
    assert store.summary() == spent
    assert store.breakdown("model") == group_records(records, "model")
    assert store.breakdown("day") == group_records(records, "day")
