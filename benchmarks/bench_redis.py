"""Shared budget in Redis: reservation + settlement round trips per second.

    python benchmarks/bench_redis.py [--url redis://127.0.0.1:6379/0] [--rounds 7]
                                     [--pairs 2000] [--threads 1,4,16] [--processes 4]

Without ``--url`` a throwaway ``redis-server`` (no persistence) is started on a
free loopback port and stopped at the end. Each pair is what one tracked call
costs a shared budget besides the read the pre-flight makes: ``reserve`` (one
Lua script: sweep, check, hold) then ``settle`` with a real call record (one
Lua script: release, count 16 usage figures). All threads share one budget key,
i.e. one Redis hash, the worst case for contention. Rows print the median over
rounds of pairs per second (all threads together) and of microseconds per pair
seen by one thread; ``in-memory`` is the default backend for scale, and ``PING``
is the bare round trip of this client. Threads of one process share its GIL;
``--processes`` runs that many single-threaded processes on the same key, as
workers on many machines would.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal

from tokenbudget import CallRecord, Usage
from tokenbudget.budgets import Amount, BudgetBackend, InMemoryBackend, Limits
from tokenbudget.redis import RedisBackend

RECORD = CallRecord(
    timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc),
    provider="openai",
    model="gpt-5",
    endpoint="chat",
    usage=Usage(input_tokens=812, output_tokens=245, cached_input_tokens=512),
    cost_usd=Decimal("0.0034465"),
    tags={"feature": "search"},
)
HOLD = Amount(Decimal("0.00512"), 1_324)
LIMITS = Limits(cost_usd=Decimal("1000000"), tokens=10**15)
WINDOW = "2026-01-01"


@contextmanager
def local_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit(
            "redis-server is not on PATH (apt-get install redis-server), or pass --url"
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", directory, "--loglevel", "warning"]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait(10)


def pairs(backend: BudgetBackend, count: int) -> None:
    for _ in range(count):
        held, _ = backend.reserve(WINDOW, HOLD, LIMITS)
        assert held
        backend.settle(WINDOW, HOLD, RECORD)


def timed(run: Callable[[int], None], threads: int, total: int) -> tuple[float, float]:
    """(pairs per second over all threads, microseconds per pair in one thread)."""
    each = total // threads
    barrier = threading.Barrier(threads + 1)
    spans: list[float] = []

    def worker() -> None:
        barrier.wait()
        started = time.perf_counter()
        run(each)
        spans.append(time.perf_counter() - started)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in workers:
        thread.join()
    wall = time.perf_counter() - started
    return each * threads / wall, statistics.median(spans) / each * 1e6


def process_pairs(url: str, count: int, start: object, out: object) -> None:
    """One worker process: ``count`` pairs, then its elapsed time on ``out``."""
    backend = RedisBackend(url=url, key="bench", timeout=2.0)
    pairs(backend, 50)
    start.wait()  # type: ignore[attr-defined]
    began = time.perf_counter()
    pairs(backend, count)
    out.put(time.perf_counter() - began)  # type: ignore[attr-defined]


def across_processes(url: str, processes: int, total: int) -> float:
    """Pairs per second of ``processes`` single-threaded processes together."""
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(processes), context.Queue()
    each = total // processes
    workers = [
        context.Process(target=process_pairs, args=(url, each, start, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    spans = [out.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join()
    return each * processes / max(spans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an existing server (default: start one)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--pairs", type=int, default=2000, help="pairs per round")
    parser.add_argument("--threads", default="1,4,16")
    parser.add_argument("--processes", type=int, default=4, help="0: skip that case")
    args = parser.parse_args()
    with local_server() if args.url is None else nullcontext(args.url) as url:
        backend = RedisBackend(url=url, key="bench", timeout=2.0)
        backend.clear()
        client = backend.client
        cases: list[tuple[str, int, Callable[[int], None]]] = [
            ("PING (bare round trip)", 1, lambda n: [client.ping() for _ in range(n)] and None),
            ("in-memory backend", 1, lambda n: pairs(InMemoryBackend(), n)),
        ]
        for threads in (int(t) for t in args.threads.split(",")):
            cases.append(("redis reserve+settle", threads, lambda n: pairs(backend, n)))
        pairs(backend, 200)  # warm up: scripts loaded, connections open
        print(f"server: {url}   pairs per round: {args.pairs}   rounds: {args.rounds}\n")
        print(f"{'case':<26}{'threads':>8}{'pairs/s':>12}{'us/pair (1 thread)':>22}")
        for name, threads, run in cases:
            results = [timed(run, threads, args.pairs) for _ in range(args.rounds)]
            rate = statistics.median(r[0] for r in results)
            latency = statistics.median(r[1] for r in results)
            print(f"{name:<26}{threads:>8}{rate:>12,.0f}{latency:>22,.1f}")
        if args.processes:
            rates = [across_processes(url, args.processes, args.pairs * 2) for _ in range(3)]
            name = "redis, processes"
            print(f"{name:<26}{args.processes:>8}{statistics.median(rates):>12,.0f}{'':>22}")
        state = backend.read(WINDOW)
        assert state.reserved == Amount(), state
        backend.clear()


@contextmanager
def nullcontext(value: str) -> Iterator[str]:
    yield value


if __name__ == "__main__":
    main()
