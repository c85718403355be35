"""One budget for many worker processes, kept in Redis. Offline but for a local Redis.

Four worker processes make 25 calls each to gpt-5 (answered by
``tokenbudget.testing.FakeLLM``, priced at the built-in $1.25 / $10 per 1M
tokens) under one shared limit of 2 cents a day. Each call reserves its worst
case in Redis before it is sent, so together they never pass the limit; every
call is also counted in the Redis usage store, which the report reads.

    pip install -e ".[all]"
    python examples/shared_budget.py                          # a throwaway redis-server
    python examples/shared_budget.py redis://localhost:6379/15    # or yours
"""

from __future__ import annotations

import multiprocessing
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai

from tokenbudget import TokenBudgetError, TokenTracker, budget, generate_table_report
from tokenbudget.redis import RedisBackend, RedisStore
from tokenbudget.testing import FakeLLM

LIMIT = "0.02"
KEY = "example:gpt5"


def worker(url: str, name: str, calls: int) -> tuple[str, int, int]:
    """One worker: ``calls`` calls under the shared daily budget; (name, sent, refused)."""
    shared = budget(max_cost_usd=LIMIT, per="day", key=KEY, backend=url, preflight="worst_case")
    with TokenTracker(store=url, budgets=[shared]) as tracker:
        fake = FakeLLM(reply="A shared budget keeps every worker honest. " * 4)
        http = tracker.httpx_client(transport=fake)
        client = openai.OpenAI(api_key="sk-fake", http_client=http)
        refused = 0
        for index in range(calls):
            try:
                client.chat.completions.create(
                    model="gpt-5",
                    max_tokens=100,
                    messages=[{"role": "user", "content": f"{name}: task {index}"}],
                )
            except TokenBudgetError:
                refused += 1
        return name, fake.calls, refused


@contextmanager
def redis_url() -> Iterator[str]:
    """The URL given on the command line, or a throwaway redis-server's."""
    if len(sys.argv) > 1:
        yield sys.argv[1]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("no redis-server on PATH: apt-get install redis-server, or pass a URL")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        server = subprocess.Popen([*command, "--dir", directory], stdout=subprocess.DEVNULL)
        try:
            while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    with redis_url() as url:
        RedisBackend(url=url, key=KEY).clear()
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            results: list[Any] = pool.starmap(worker, [(url, f"w{i}", 25) for i in range(4)])
        for name, sent, refused in results:
            print(f"worker {name}: {sent} calls sent, {refused} refused before sending")
        state = RedisBackend(url=url, key=KEY).read(time.strftime("%Y-%m-%d", time.gmtime()))
        print(f"\nshared budget {KEY!r}: ${state.spent.cost_usd} spent of ${LIMIT} today")
        with RedisStore.from_url(url) as store:
            print(f"\ntokenbudget report {url} --by model\n")
            print(generate_table_report(store, by="model"), end="")


if __name__ == "__main__":
    main()
