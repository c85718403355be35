"""Where a budget applies: blocks, decorators, nesting, tasks, threads, trackers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx2
import openai
import pytest

from tokenbudget import (
    Budget,
    TokenLimitReached,
    budget,
    context_executor,
    current_budget,
    in_context,
)
from tokenbudget.testing import FakeLLM

from .helpers import (
    ANTHROPIC_INPUT,
    OPENAI_INPUT,
    REPLY,
    anthropic_client,
    chat,
    message,
    micro,
    openai_client,
    tracker,
)

#: Tokens and cost (see helpers.MODELS) of one call answering REPLY (5 tokens).
USE = {"openai": (OPENAI_INPUT + 5, micro(OPENAI_INPUT + 10))}
USE["anthropic"] = (ANTHROPIC_INPUT + 5, micro(ANTHROPIC_INPUT + 10))


def make_call(sdk: str, mode: str) -> tuple[Any, FakeLLM]:
    """A function making one call with ``sdk``'s client (async for ``mode="async"``)."""
    fake = FakeLLM(reply=REPLY)
    tracked = tracker()
    if sdk == "openai":
        client = openai_client(tracked, fake, mode)
        return (lambda: chat(client)), fake
    client = anthropic_client(tracked, fake, mode)
    return (lambda: message(client)), fake


def assert_counted(ctx: Budget, sdk: str, calls: int = 1) -> None:
    tokens, cost = USE[sdk]
    usage = ctx.current_usage
    assert (usage.calls, usage.total_tokens, usage.cost_usd) == (
        calls,
        calls * tokens,
        calls * cost,
    )


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_with_block(sdk: str) -> None:
    call, _ = make_call(sdk, "sync")
    with budget(max_cost_usd="0.01", max_tokens=1000) as ctx:
        call()
        assert current_budget() is ctx
    assert current_budget() is None
    assert_counted(ctx, sdk)
    assert ctx.remaining_budget == micro(10_000) - USE[sdk][1]
    assert ctx.remaining_tokens == 1000 - USE[sdk][0]
    assert not ctx.exceeded
    call()  # outside the block: not counted
    assert_counted(ctx, sdk)


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
async def test_async_with_block(sdk: str) -> None:
    call, _ = make_call(sdk, "async")
    async with budget(max_cost_usd=0.01) as ctx:
        await call()
        await call()
    assert_counted(ctx, sdk, calls=2)


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_decorator_on_a_function(sdk: str) -> None:
    call, _ = make_call(sdk, "sync")

    @budget(max_cost_usd=0.01, name="per-call")
    def work() -> Budget | None:
        call()
        return current_budget()

    first, second = work(), work()
    assert first is not None and second is not None and first is not second
    assert first.name == "per-call"
    assert_counted(first, sdk)
    assert_counted(second, sdk)


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
async def test_decorator_on_a_coroutine_function(sdk: str) -> None:
    call, _ = make_call(sdk, "async")

    @budget(max_tokens=1000)
    async def work() -> Budget | None:
        await call()
        return current_budget()

    ctx = await work()
    assert ctx is not None
    assert_counted(ctx, sdk)
    assert current_budget() is None


def test_each_decorated_call_gets_its_own_budget_unless_windowed() -> None:
    call, fake = make_call("openai", "sync")
    per_call = budget(max_tokens=20)(call)  # one call uses 13 tokens
    per_call()
    per_call()
    shared = budget(max_tokens=20, per="day")
    shared_call = shared(call)
    shared_call()
    with pytest.raises(TokenLimitReached):  # 13 used + 8 input > 20
        shared_call()
    assert shared.current_usage.calls == 1
    assert fake.calls == 3


def test_nested_budgets_charge_every_enclosing_one_and_the_tightest_decides() -> None:
    call, fake = make_call("openai", "sync")
    with budget(max_cost_usd=1, name="outer") as outer:
        with budget(max_tokens=15, name="inner") as inner:
            call()
            with pytest.raises(TokenLimitReached) as refused:  # 13 used + 8 input > 15
                call()
        call()  # the outer budget alone still has room
    assert refused.value.budget_name == "inner"
    assert (refused.value.limit, refused.value.spent, refused.value.estimate) == (15, 13, 8)
    assert inner.current_usage.calls == 1
    assert outer.current_usage.calls == 2
    assert outer.current_usage.cost_usd == 2 * USE["openai"][1]
    assert fake.calls == 2


def test_the_same_budget_entered_twice_counts_a_call_once() -> None:
    call, _ = make_call("openai", "sync")
    shared = budget(max_tokens=100)
    with shared, shared:
        call()
    assert shared.current_usage.calls == 1


def test_a_thread_pool_carries_the_budget_with_the_helpers() -> None:
    call, fake = make_call("openai", "sync")
    with budget(max_tokens=10_000) as ctx:
        with context_executor(max_workers=2) as pool:
            pool.submit(call).result()
            list(pool.map(lambda _: call(), range(2)))
        carried = threading.Thread(target=in_context(call))
        carried.start()
        carried.join()
        unrelated = threading.Thread(target=call)  # threads do not copy the context
        unrelated.start()
        unrelated.join()
    assert ctx.current_usage.calls == 4
    assert fake.calls == 5


def test_in_context_runs_in_several_threads_at_once() -> None:
    seen: list[Budget | None] = []
    barrier = threading.Barrier(3)

    def probe() -> None:
        barrier.wait()
        seen.append(current_budget())

    with budget(max_tokens=1) as ctx:
        bound = in_context(probe)
    threads = [threading.Thread(target=bound) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [ctx, ctx, ctx]


async def test_tasks_created_inside_count_and_tasks_from_outside_do_not() -> None:
    call, fake = make_call("openai", "async")
    go = asyncio.Event()

    async def later() -> None:
        await go.wait()
        await call()

    outsider = asyncio.create_task(later())
    async with budget(max_tokens=10_000) as ctx:
        await asyncio.gather(*(asyncio.create_task(call()) for _ in range(3)))
        go.set()
        await outsider
    assert ctx.current_usage.calls == 3
    assert fake.calls == 4


def test_tracker_argument_limits_a_budget_to_that_trackers_calls() -> None:
    fake = FakeLLM(reply=REPLY)
    mine, other = tracker(), tracker()
    mine_client, other_client = openai_client(mine, fake), openai_client(other, fake)
    with budget(max_tokens=1000, tracker=mine) as only_mine, budget(max_tokens=1000) as every:
        chat(mine_client)
        chat(other_client)
    assert only_mine.current_usage.calls == 1
    assert every.current_usage.calls == 2


def test_a_tracker_wide_budget_holds_every_context() -> None:
    fake = FakeLLM(reply=REPLY)
    tracked = tracker(max_tokens=20, name="service")
    client = openai_client(tracked, fake)
    errors: list[TokenLimitReached] = []

    def in_a_plain_thread() -> None:
        try:
            chat(client)
        except TokenLimitReached as error:
            errors.append(error)

    chat(client)  # 13 tokens
    thread = threading.Thread(target=in_a_plain_thread)
    thread.start()
    thread.join()
    assert [e.budget_name for e in errors] == ["service"]
    (wide,) = tracked.budgets
    assert wide.exceeded is False and wide.current_usage.calls == 1
    assert fake.calls == 1


def test_one_http_call_through_two_trackers_is_charged_once() -> None:
    fake = FakeLLM(reply=REPLY)
    outer, inner = tracker(), tracker()
    inner_wide = inner.add_budget(budget(max_tokens=1000))
    both = outer.transport(inner.transport(fake))
    client = openai.OpenAI(api_key="sk-test", http_client=httpx2.Client(transport=both))
    with budget(max_tokens=1000) as ctx:
        chat(client)
    assert ctx.current_usage.calls == 1
    assert inner_wide.current_usage.calls == 1
    assert outer.usage.calls == inner.usage.calls == 1


async def test_a_budget_entered_by_concurrent_tasks_leaves_each_cleanly() -> None:
    shared = budget(max_tokens=100)
    inside = asyncio.Event()

    async def hold() -> Budget | None:
        async with shared:
            await inside.wait()
            return current_budget()

    tasks = [asyncio.create_task(hold()) for _ in range(2)]
    await asyncio.sleep(0)
    inside.set()
    assert await asyncio.gather(*tasks) == [shared, shared]
    assert current_budget() is None
