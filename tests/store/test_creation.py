"""Many processes opening one new store at the same moment all see a complete store."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from tokenbudget.store import SQLiteStore

_FORK = multiprocessing.get_context("fork")
PROCESSES = 8
ROUNDS = 12


def _open_and_write(path: str, start: Barrier, results: Any, name: str) -> None:
    from ..support import record

    start.wait()
    try:
        with SQLiteStore(path) as store:
            store.append([record(tags={"process": name})])
        results.put("ok")
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put(repr(exc))


def test_processes_started_together_on_a_new_file_all_open_it(tmp_path: Path) -> None:
    failures: list[str] = []
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"usage-{round_}.db")
        start = _FORK.Barrier(PROCESSES)
        results = _FORK.Queue()
        workers = [
            _FORK.Process(target=_open_and_write, args=(path, start, results, str(n)))
            for n in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(10)
        results.close()
        results.join_thread()
        failures += [outcome for outcome in outcomes if outcome != "ok"]
        with SQLiteStore(path, create=False) as store:
            assert store.summary().calls == outcomes.count("ok")
    assert failures == []
