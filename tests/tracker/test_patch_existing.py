"""``patch_all()`` also tracks clients built before it: a module-level SDK client, say.

Through the real openai SDK of whichever generation is installed (the
compatibility matrix reruns this file under old releases), over a loopback
server. ``unpatch_all()`` leaves such a client tracked, like every client
built while patched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

import tokenbudget
from tokenbudget import TokenLimitReached, TokenTracker, budget, budget_refusal

from ..budgets.sdk_calls import run, running_server
from ..loopback import LoopbackServer

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with running_server() as running:
        yield running


@pytest.fixture
def restore() -> Iterator[None]:
    try:
        yield
    finally:
        tokenbudget.unpatch_all()


def chat(client: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def built_before(server: LoopbackServer, mode: str) -> Any:
    """An openai client built the usual way, with the SDK's own http client."""
    openai = pytest.importorskip("openai")
    cls = openai.AsyncOpenAI if mode == "async" else openai.OpenAI
    return cls(api_key="sk-test", base_url=server.base_url)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_client_built_before_patch_all_is_tracked_and_stays_so(
    server: LoopbackServer, mode: str, restore: None
) -> None:
    client = built_before(server, mode)
    tracker = TokenTracker(hosts={server.host: "openai"})
    await run(chat(client), False)
    assert tracker.usage.calls == 0, "not tracked yet"
    tokenbudget.patch_all(tracker)
    tokenbudget.patch_all(tracker)  # again: still tracked once
    await run(chat(client), False)
    assert tracker.usage.calls == 1 and tracker.last_record is not None
    assert tracker.last_record.usage.total_tokens == 29
    sent = len(server.requests)
    with budget(max_tokens=1):
        with pytest.raises(TokenLimitReached):  # the first loads the tokenizer: not timed
            await run(chat(client), False)
        started = time.perf_counter()
        with pytest.raises(TokenLimitReached) as refused:
            await run(chat(client), False)
        elapsed = time.perf_counter() - started
    assert elapsed < 0.2 and len(server.requests) == sent
    assert budget_refusal(refused.value) is refused.value
    tokenbudget.unpatch_all()
    await run(chat(client), False)
    assert tracker.usage.calls == 2, "unpatch_all leaves it tracked"


def test_closed_clients_and_other_trackers_clients_are_left_alone(
    server: LoopbackServer, restore: None
) -> None:
    httpx = pytest.importorskip("httpx")
    other = TokenTracker(hosts={server.host: "openai"})
    theirs = other.httpx_client("httpx")
    closed = httpx.Client()
    closed.close()
    transport = closed._transport
    tracker = TokenTracker(hosts={server.host: "openai"})
    tokenbudget.patch_all(tracker)
    assert closed._transport is transport
    theirs.post(
        f"{server.base_url}/chat/completions", json={"model": "gpt-4o", "messages": MESSAGES}
    )
    assert (other.usage.calls, tracker.usage.calls) == (1, 0)
