"""Identical calls in flight at once make one provider call (single flight).

Each test issues the same request from many threads or asyncio tasks through
the real openai SDK to a mock provider that counts calls and holds the first
one until every other caller is waiting (``cache_stats.waiting``), so the
callers really overlap. The first caller's end, however it ends, lets the
others go on: they read its answer, or go out themselves when it left none.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from tokenbudget import TokenTracker
from tokenbudget.cache import CallCache, MemoryBackend
from tokenbudget.testing import FakeLLM

from ..support import fixture_json

N = 8
MESSAGES = [{"role": "user", "content": "Hi"}]


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` (a generous bound, so a broken build fails instead of hanging)."""
    give_up = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < give_up, f"gave up waiting for {what}"
        time.sleep(0.001)


class GatedProvider:
    """Answers chat calls (each with its own id); holds them until ``gate`` is set."""

    def __init__(self, fail_first: bool = False) -> None:
        self.calls = 0
        self.gate = threading.Event()
        self.fail_first = fail_first
        self._lock = threading.Lock()

    def arrive(self) -> int:
        with self._lock:
            self.calls += 1
            return self.calls

    def answer(self, number: int) -> httpx2.Response:
        if self.fail_first and number == 1:
            return httpx2.Response(500, json={"error": {"message": "boom", "type": "server"}})
        body = {**fixture_json("openai/chat.json"), "id": f"chatcmpl-{number}"}
        return httpx2.Response(200, content=json.dumps(body).encode())

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        number = self.arrive()
        self.gate.wait(60)
        return self.answer(number)

    async def async_handler(self, request: httpx2.Request) -> httpx2.Response:
        number = self.arrive()
        while not self.gate.is_set():
            await asyncio.sleep(0.001)
        return self.answer(number)


def tracker_for(cache: str, tmp_path: Path) -> TokenTracker:
    return TokenTracker(cache=cache, cache_dir=tmp_path if cache == "disk" else None)


def call(client: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=MESSAGES).model_dump()


def run_threads(target: Callable[[], Any], count: int) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(target())
        except BaseException as exc:  # collected for the test to look at
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    return results, errors


def gated_calls(
    tracker: TokenTracker, provider: GatedProvider, count: int
) -> tuple[list[Any], list[BaseException]]:
    """``count`` threads make the same call; the provider answers once all are in.

    In means: at the provider, or waiting for an identical call in flight.
    """
    http = tracker.httpx_client(transport=httpx2.MockTransport(provider.handler))
    client = openai.OpenAI(api_key="sk-one", http_client=http, max_retries=0)
    threads_before = threading.active_count()
    results, errors = run_threads(lambda: call(client), count)
    wait_until(lambda: provider.calls + tracker.cache_stats.waiting >= count, "every caller")
    provider.gate.set()
    wait_until(lambda: threading.active_count() == threads_before, "the callers")
    return results, errors


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_threads_asking_the_same_thing_make_one_call(cache: str, tmp_path: Path) -> None:
    tracker = tracker_for(cache, tmp_path)
    provider = GatedProvider()
    results, errors = gated_calls(tracker, provider, N)

    assert errors == []
    assert provider.calls == 1
    assert len(results) == N and all(result == results[0] for result in results)
    stats = tracker.cache_stats
    assert (stats.misses, stats.hits, stats.coalesced, stats.waiting) == (1, N - 1, N - 1, 0)
    assert sum(record.cached for record in tracker.records) == N - 1


async def test_asyncio_tasks_asking_the_same_thing_make_one_call() -> None:
    tracker = TokenTracker(cache="memory")
    provider = GatedProvider()
    http = tracker.async_httpx_client(transport=httpx2.MockTransport(provider.async_handler))
    client = openai.AsyncOpenAI(api_key="sk-one", http_client=http, max_retries=0)

    async def ask() -> Any:
        made = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        return made.model_dump()

    tasks = [asyncio.create_task(ask()) for _ in range(N)]
    while provider.calls + tracker.cache_stats.waiting < N:
        assert not any(task.done() for task in tasks)
        await asyncio.sleep(0.001)
    provider.gate.set()
    results = await asyncio.gather(*tasks)

    assert provider.calls == 1
    assert all(result == results[0] for result in results)
    assert tracker.cache_stats.coalesced == N - 1


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_when_the_first_call_fails_the_others_go_out(cache: str, tmp_path: Path) -> None:
    tracker = tracker_for(cache, tmp_path)
    provider = GatedProvider(fail_first=True)
    results, errors = gated_calls(tracker, provider, N)

    assert [type(error) for error in errors] == [openai.InternalServerError]
    assert provider.calls == 2, "one waiter went out in its place; the rest read its answer"
    assert len(results) == N - 1 and all(result == results[0] for result in results)


async def test_a_budget_refusing_the_first_call_lets_the_others_go() -> None:
    from tokenbudget import BudgetExceeded, budget

    tracker = TokenTracker(cache="memory")
    provider = GatedProvider()
    provider.gate.set()
    http = tracker.async_httpx_client(transport=httpx2.MockTransport(provider.async_handler))
    client = openai.AsyncOpenAI(api_key="sk-one", http_client=http, max_retries=0)
    with pytest.raises(BudgetExceeded), budget(max_cost_usd="0.000000001"):
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    # The refused call led a flight; it must be over, or this call would wait for it.
    answer = await asyncio.wait_for(
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES), 20
    )
    assert answer.id == "chatcmpl-1" and provider.calls == 1


def stream_client(tracker: TokenTracker, fake: FakeLLM) -> Any:
    return openai.OpenAI(
        api_key="sk-one", http_client=tracker.httpx_client(transport=fake), max_retries=0
    )


def stream_text(client: Any) -> str:
    chunks = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def test_a_waiter_goes_out_when_the_first_stream_is_abandoned() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="one two three four", chunk_size=4)
    client = stream_client(tracker, fake)

    leader = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    threads_before = threading.active_count()
    results, errors = run_threads(lambda: stream_text(client), 1)
    wait_until(lambda: tracker.cache_stats.waiting == 1, "the waiter")
    next(iter(leader))
    leader.close()  # abandoned: nothing stored, the waiter must not wait any longer
    wait_until(lambda: threading.active_count() == threads_before, "the waiter")

    assert errors == [] and results == ["one two three four"]
    assert fake.calls == 2


def test_a_waiter_stops_waiting_for_a_stream_held_open() -> None:
    tracker = TokenTracker(cache=CallCache(MemoryBackend(), flight_timeout=0.05))
    fake = FakeLLM(reply="one two three four", chunk_size=4)
    client = stream_client(tracker, fake)

    leader = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    threads_before = threading.active_count()
    results, errors = run_threads(lambda: stream_text(client), 1)
    wait_until(lambda: threading.active_count() == threads_before, "the waiter")
    leader.close()

    assert errors == [] and results == ["one two three four"]
    assert fake.calls == 2


def test_a_thread_never_waits_for_its_own_stream() -> None:
    tracker = TokenTracker(cache=CallCache(MemoryBackend(), flight_timeout=3600))
    fake = FakeLLM(reply="one two three four", chunk_size=4)
    client = stream_client(tracker, fake)
    texts: list[str] = []

    def both_in_one_thread() -> None:
        leader = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        texts.append(stream_text(client))  # while this thread still holds the first stream
        leader.close()

    worker = threading.Thread(target=both_in_one_thread, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the second call waited for the first one, held by itself"
    assert texts == ["one two three four"] and fake.calls == 2


def test_single_flight_can_be_turned_off() -> None:
    tracker = TokenTracker(cache=CallCache(MemoryBackend(), single_flight=False))
    provider = GatedProvider()
    gated_calls(tracker, provider, 3)
    assert provider.calls == 3
    assert tracker.cache_stats.coalesced == 0
