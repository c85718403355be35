"""Redis stopped or frozen mid-run: refuse vs allow_local, bounded waits, recovery and flush."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import anthropic
import pytest

from tokenbudget import BudgetExceeded, TokenLimitReached, TokenTracker, budget
from tokenbudget.budgets import Amount, BackendUnavailable, Limits
from tokenbudget.redis import RedisBackend
from tokenbudget.testing import FakeLLM

from ..support import record
from .helpers import chat, client
from .server import RedisServer

REPLY = "one two three four five"
WINDOW = ""


def stopping(server: RedisServer, at: int) -> Any:
    """A FakeLLM reply function that stops ``server`` while call number ``at`` is answered."""

    def reply(request: Any) -> str:
        if request.index + 1 == at:
            server.stop()
        return REPLY

    return reply


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_refuse_then_recover_and_flush(own_server: RedisServer) -> None:
    backend = RedisBackend(url=own_server.url, key="refuse", retry_after=0.2)
    shared = budget(max_cost_usd=1, backend=backend, name="team", preflight="worst_case")
    fake = FakeLLM(reply=stopping(own_server, at=2))
    tracker = TokenTracker(budgets=[shared])
    sdk = client(tracker, fake)
    chat(sdk)
    chat(sdk)  # Redis stops while this call is answered: its settlement waits
    assert backend.pending == 1
    started = time.monotonic()
    with pytest.raises(BudgetExceeded) as refused:
        chat(sdk)
    assert time.monotonic() - started < 1.5
    assert refused.value.reason == "unavailable" and refused.value.budget_name == "team"
    assert "cannot be reached" in str(refused.value) and "allow_local" in str(refused.value)
    with pytest.raises(BudgetExceeded):  # within retry_after: refused without trying Redis
        chat(sdk)
    assert fake.calls == 2
    assert shared.current_usage.calls == 2  # what this process knows, while Redis is away

    own_server.start()
    time.sleep(0.25)
    chat(sdk)  # the waiting settlement goes first, then this call is admitted
    assert backend.pending == 0
    assert shared.current_usage == tracker.usage and tracker.usage.calls == 3
    fresh = RedisBackend(url=own_server.url, key="refuse").read(WINDOW)
    assert fresh.usage == tracker.usage and fresh.reserved.cost_usd == 0


def test_anthropic_callers_get_the_refusal_itself(own_server: RedisServer) -> None:
    shared = budget(max_tokens=1000, backend=own_server.url, key="sdk")
    fake = FakeLLM(reply=REPLY)
    tracker = TokenTracker(budgets=[shared])
    http = tracker.httpx_client(transport=fake)
    sdk = anthropic.Anthropic(api_key="sk-ant-test", http_client=http)  # SDK retries on
    own_server.stop()
    started = time.monotonic()
    with pytest.raises(TokenLimitReached, match="cannot be reached"):
        sdk.messages.create(
            model="claude-sonnet-4-6", max_tokens=20, messages=[{"role": "user", "content": "Hi"}]
        )
    assert time.monotonic() - started < 1.5 and fake.calls == 0


def test_allow_local_admits_on_this_process_view_then_flushes(own_server: RedisServer) -> None:
    # each call: 8 input + 5 output tokens; worst case 8 + 20
    shared = budget(
        max_tokens=80,
        backend=RedisBackend(url=own_server.url, key="local", retry_after=0.2),
        on_backend_error="allow_local",
        preflight="worst_case",
        name="soft",
    )
    backend = shared.backend
    assert isinstance(backend, RedisBackend) and backend.on_error == "allow_local"
    fake = FakeLLM(reply=REPLY)
    tracker = TokenTracker(budgets=[shared], store=own_server.url)
    sdk = client(tracker, fake)
    chat(sdk, max_tokens=20)
    chat(sdk, max_tokens=20)  # 26 tokens spent
    own_server.stop()
    chat(sdk, max_tokens=20)
    chat(sdk, max_tokens=20)
    chat(sdk, max_tokens=20)  # 65 spent in this process's view; 28 more would pass 80
    with pytest.raises(TokenLimitReached, match="cannot fit"):
        chat(sdk, max_tokens=20)
    assert fake.calls == 5 and backend.pending == 3
    assert shared.current_usage.total_tokens == 65
    assert not tracker.flush(timeout=0.5)  # the store writer keeps the records meanwhile

    own_server.start()
    assert backend.flush(timeout=10)
    wait_for(lambda: tracker.flush(timeout=1))
    fresh = RedisBackend(url=own_server.url, key="local").read(WINDOW)
    assert fresh.usage == tracker.usage and fresh.usage.calls == 5
    assert tracker.store is not None and tracker.store.summary() == tracker.usage
    tracker.close()


def test_a_frozen_server_costs_a_bounded_wait_and_nothing_twice(own_server: RedisServer) -> None:
    backend = RedisBackend(url=own_server.url, key="frozen", retry_after=0.2)
    limits = Limits(cost_usd=Decimal(1))
    assert backend.reserve(WINDOW, Amount(Decimal("0.5"), 1), limits)[0]
    own_server.pause()  # connections open, nothing answered: only timeouts end the waits
    try:
        started = time.monotonic()
        backend.settle(WINDOW, Amount(Decimal("0.5"), 1), record(cost="0.1"))  # times out: kept
        assert time.monotonic() - started < 2.0 and backend.pending == 1
        time.sleep(0.25)  # past retry_after: the next reservation tries Redis again
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="cannot be reached"):
            backend.reserve(WINDOW, Amount(Decimal("0.1"), 1), limits)
        assert time.monotonic() - started < 2.0
    finally:
        own_server.resume()
    assert backend.flush(timeout=10)
    state = backend.read(WINDOW)  # the timed-out settle may have run too: counted once
    assert state.usage.calls == 1 and state.usage.cost_usd == Decimal("0.1")
    assert state.reserved == Amount()
