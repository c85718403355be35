"""``budget(key=..., backend="redis://...")`` through real SDK calls over FakeLLM."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import openai
import pytest
import redis
import redis.asyncio

from tokenbudget import BudgetExceeded, TokenTracker, budget
from tokenbudget.redis import RedisBackend
from tokenbudget.testing import FakeLLM

from ..support import Clock
from .helpers import UTC, chat, client

REPLY = "one two three four five"


def test_a_day_window_rolls_over_on_the_injected_clock(redis_url: str) -> None:
    clock = Clock(datetime(2026, 3, 1, 23, 0, tzinfo=UTC))
    daily = budget(
        max_cost_usd="0.00015",  # a call of 8 input + 5 output gpt-5 tokens costs $0.00006
        per="day",
        clock=clock,
        key="rollover",
        backend=redis_url,
        preflight="worst_case",
    )
    fake = FakeLLM(reply=REPLY)
    sdk = client(TokenTracker(budgets=[daily]), fake)
    chat(sdk, max_tokens=5)
    chat(sdk, max_tokens=5)
    with pytest.raises(BudgetExceeded, match="this day"):
        chat(sdk, max_tokens=5)  # a third would pass $0.00015
    assert daily.current_usage.calls == 2 and fake.calls == 2
    clock.now = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert daily.current_usage.calls == 0 and daily.remaining_budget == Decimal("0.00015")
    chat(sdk, max_tokens=5)
    keys = redis.Redis.from_url(redis_url).keys("tokenbudget:budget:{rollover}:*")
    assert sorted(keys) == [
        b"tokenbudget:budget:{rollover}:2026-03-01",
        b"tokenbudget:budget:{rollover}:2026-03-02",
    ]


def test_budgets_with_one_key_share_one_limit(redis_url: str) -> None:
    first = budget(max_tokens=30, key="shared", backend=redis_url, name="first")
    second = budget(max_tokens=30, key="shared", backend=redis_url, name="second")
    fake = FakeLLM(reply=REPLY)
    sdk = client(TokenTracker(), fake)
    with first:
        chat(sdk)  # 8 + 5 tokens
    with second:
        chat(sdk)
        with pytest.raises(Exception, match="budget 'second'"):
            chat(sdk)  # 26 used: 8 more input tokens leave no room (30)
    assert first.current_usage.total_tokens == 26 and first.exceeded is False
    assert first.backend is not second.backend
    assert first.backend.client is second.backend.client  # type: ignore[attr-defined]


def test_a_redis_backend_object_takes_its_key_from_the_budget(redis_url: str) -> None:
    base = RedisBackend(client=redis.Redis.from_url(redis_url, socket_timeout=0.5))
    shared = budget(max_cost_usd=1, key="from-budget", backend=base, on_backend_error="allow_local")
    assert isinstance(shared.backend, RedisBackend)
    assert shared.backend.key == "from-budget" and shared.backend.on_error == "allow_local"
    fixed = RedisBackend(client=base.client, key="fixed")
    assert budget(max_cost_usd=1, backend=fixed).backend is fixed


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"backend": "redis://127.0.0.1:1/0"}, ValueError, "needs key="),
        ({"backend": "ftp://host", "key": "k"}, ValueError, r"redis://, rediss:// or unix://"),
        ({"key": "k"}, TypeError, "apply to shared budgets"),
        ({"backend": "redis://127.0.0.1:1/0", "key": "{k}"}, ValueError, "without braces"),
    ],
)
def test_shared_budget_arguments_are_checked(
    kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        budget(max_cost_usd=1, **kwargs)  # type: ignore[arg-type]


async def test_an_asyncio_client_is_accepted(redis_url: str) -> None:
    async_client = redis.asyncio.Redis.from_url(redis_url, socket_timeout=0.5)
    shared = budget(
        max_tokens=30, key="async", backend=RedisBackend(client=async_client), name="async"
    )
    tracker = TokenTracker(budgets=[shared])
    fake = FakeLLM(reply=REPLY)
    http = tracker.async_httpx_client(transport=fake)
    sdk = openai.AsyncOpenAI(api_key="sk-test", http_client=http, max_retries=0)
    await chat(sdk)
    await chat(sdk)
    with pytest.raises(Exception, match="budget 'async'"):
        await chat(sdk)
    assert shared.current_usage.calls == 2
    await async_client.aclose()


def test_a_prefix_in_the_url_names_the_keys(redis_url: str) -> None:
    shared = budget(max_tokens=30, key="p", backend=redis_url + "?prefix=team-b")
    sdk = client(TokenTracker(budgets=[shared]), FakeLLM(reply=REPLY))
    chat(sdk)
    assert redis.Redis.from_url(redis_url).keys("*") == [b"team-b:budget:{p}:total"]


def test_a_redis_backend_without_a_key_is_refused_at_once(redis_url: str) -> None:
    with pytest.raises(ValueError, match="needs key="):
        budget(max_cost_usd=1, backend=RedisBackend(url=redis_url))
