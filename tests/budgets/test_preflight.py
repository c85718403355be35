"""Before a request leaves: refusals that send nothing, reservations, clamping, unpriced models."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tokenbudget import BudgetExceeded, TokenBudgetError, TokenLimitReached, budget
from tokenbudget import context_executor as executor
from tokenbudget.testing import FakeLLM

from ..support import resolve
from .gates import AsyncGate, ThreadGate, gated_openai
from .helpers import (
    ANTHROPIC_ESTIMATE,
    ANTHROPIC_MODEL,
    GEMINI_MODEL,
    MESSAGES,
    OPENAI_INPUT,
    REPLY,
    anthropic_client,
    chat,
    message,
    micro,
    openai_client,
    tracker,
)

# -- a refusal sends nothing, through every SDK, with no retry ----------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
async def test_a_refused_request_never_reaches_the_server(
    sdk: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeLLM(reply=REPLY)
    tracked = tracker()
    make = openai_client if sdk == "openai" else anthropic_client
    client = make(tracked, fake, mode, max_retries=3)
    sleeps: list[Any] = []
    monkeypatch.setattr(client, "_sleep_for_retry", lambda **kw: sleeps.append(kw))
    # The input alone costs one micro-dollar more than the budget.
    estimate = OPENAI_INPUT if sdk == "openai" else ANTHROPIC_ESTIMATE
    with (
        budget(max_cost_usd=micro(estimate - 1), name="tiny"),
        pytest.raises(BudgetExceeded) as refused,
    ):
        await resolve(chat(client) if sdk == "openai" else message(client))
    error = refused.value
    assert type(error).__name__.endswith("BudgetExceeded")
    assert isinstance(error, anthropic.AnthropicError) is (sdk == "anthropic")
    assert not isinstance(error, (openai.APIConnectionError, anthropic.APIConnectionError))
    assert (error.reason, error.budget_name) == ("preflight", "tiny")
    assert (error.limit, error.spent, error.estimate) == (micro(estimate - 1), 0, micro(estimate))
    assert fake.calls == 0 and tracked.usage.calls == 0
    assert sleeps == [], "the SDK did not retry"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_refusal_through_google_genai(mode: str) -> None:
    fake = FakeLLM(reply=REPLY)
    tracked = tracker()
    options = types.HttpOptions(
        httpx_client=tracked.httpx_client(transport=fake),
        httpx_async_client=tracked.async_httpx_client(transport=fake),
        retry_options=types.HttpRetryOptions(attempts=3),
    )
    client = genai.Client(api_key="fake-key", http_options=options)
    models = client.aio.models if mode == "async" else client.models
    with budget(max_tokens=3), pytest.raises(TokenLimitReached) as refused:
        await resolve(models.generate_content(model=GEMINI_MODEL, contents="one two three four"))
    assert refused.value.estimate == 4
    assert fake.calls == 0


def test_minimum_refuses_every_call_once_spent_and_says_why() -> None:
    fake = FakeLLM(reply=REPLY)
    client = openai_client(tracker(), fake)
    with budget(max_tokens=13, name="small") as ctx:
        chat(client)  # 8 + 5 = 13 tokens: the budget is spent exactly
        assert ctx.exceeded and ctx.remaining_tokens == 0
        with pytest.raises(TokenLimitReached) as refused:
            chat(client)
    assert refused.value.reason == "exceeded"
    assert str(refused.value) == (
        "budget 'small' is spent (13 of 13 tokens used); the call to gpt-4o-mini was not sent"
    )
    assert fake.calls == 1


# -- worst_case: concurrent calls never overshoot together --------------------------------

#: A call with max_tokens=10: worst case 8 input + 10 output = micro(28); actual micro(18).
WORST, ACTUAL = micro(OPENAI_INPUT + 2 * 10), micro(OPENAI_INPUT + 2 * 5)


async def test_worst_case_20_concurrent_calls_never_overshoot() -> None:
    gate = AsyncGate(FakeLLM(reply=REPLY))
    client = gated_openai(tracker(), gate, "async")
    limit = 5 * WORST + micro(10)  # room for five worst cases, not six
    ctx = budget(max_cost_usd=limit, preflight="worst_case")

    async def call() -> Any:
        async with ctx:
            return await chat(client, max_tokens=10)

    tasks = [asyncio.create_task(call()) for _ in range(20)]
    for _ in range(1000):  # every task either waits at the gate or was refused
        if gate.waiting + sum(task.done() for task in tasks) == 20:
            break
        await asyncio.sleep(0)
    assert gate.waiting == 5
    assert ctx.state.reserved.cost_usd == 5 * WORST
    gate.opened.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert len(refused) == 15 and {r.reason for r in refused} == {"preflight"}
    assert ctx.current_usage.calls == 5
    assert ctx.current_usage.cost_usd == 5 * ACTUAL <= limit
    assert ctx.state.reserved.cost_usd == 0


def test_worst_case_threads_never_overshoot() -> None:
    gate = ThreadGate(FakeLLM(reply=REPLY))
    client = gated_openai(tracker(), gate)
    refused: list[BaseException] = []

    def call() -> None:
        try:
            chat(client, max_tokens=10)
        except BudgetExceeded as error:
            refused.append(error)
            with gate.changed:
                gate.changed.notify_all()

    ctx = budget(max_cost_usd=3 * WORST, preflight="worst_case")
    with ctx, executor(max_workers=20) as pool:
        futures = [pool.submit(call) for _ in range(20)]
        with gate.changed:
            gate.changed.wait_for(lambda: gate.waiting + len(refused) == 20, timeout=30)
        assert gate.waiting == 3
        gate.opened.set()
        for future in futures:
            future.result()
    assert len(refused) == 17
    assert ctx.current_usage.cost_usd == 3 * ACTUAL
    assert ctx.state.reserved.cost_usd == 0


async def test_a_cancelled_task_releases_its_reservation() -> None:
    fake = FakeLLM(reply=REPLY)
    gate = AsyncGate(fake)
    tracked = tracker()
    client = gated_openai(tracked, gate, "async", max_retries=0)
    ctx = budget(max_cost_usd=WORST + micro(2), preflight="worst_case")

    async def call() -> Any:
        async with ctx:
            return await chat(client, max_tokens=10)

    stuck = asyncio.create_task(call())
    await gate.arrived.wait()
    assert ctx.state.reserved.cost_usd == WORST
    with pytest.raises(BudgetExceeded):  # the reservation is live: no room for a second call
        await call()
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    assert ctx.state.reserved.cost_usd == 0
    assert not ctx.exceeded, "no phantom exceeded"
    assert tracked.records[-1].error == "cancelled" and tracked.records[-1].cost_usd == 0
    gate.opened.set()
    assert (await call()).choices[0].message.content == REPLY
    assert ctx.current_usage.cost_usd == ACTUAL


# -- calls that set no output ceiling -----------------------------------------------------


async def test_an_unbounded_call_holds_all_that_is_left() -> None:
    gate = AsyncGate(FakeLLM(reply=REPLY))
    client = gated_openai(tracker(), gate, "async")
    ctx = budget(max_cost_usd=micro(1000), preflight="worst_case")

    async def call(**kw: Any) -> Any:
        async with ctx:
            return await chat(client, **kw)

    first = asyncio.create_task(call())  # no max_tokens
    await gate.arrived.wait()
    assert ctx.state.reserved.cost_usd == micro(1000) and ctx.remaining_budget == 0
    with pytest.raises(BudgetExceeded) as refused:
        await call(max_tokens=1)
    assert str(refused.value).endswith(
        "but $0 is left ($0 spent of $0.001; $0.001 held by calls in flight)"
    )
    gate.opened.set()
    await first
    assert ctx.remaining_budget == micro(1000) - ACTUAL


def test_default_max_output_bounds_a_call_that_sets_none() -> None:
    fake = FakeLLM(reply=REPLY)
    client = openai_client(tracker(), fake)
    with budget(max_tokens=1000, preflight="worst_case", default_max_output=10) as ctx:
        chat(client)
    assert "max_completion_tokens" not in fake.requests[-1].body  # worst_case never edits
    with budget(max_tokens=1000, preflight="clamp", default_max_output=10):
        chat(client)
    assert fake.requests[-1].body["max_completion_tokens"] == 10  # clamp writes the bound
    assert ctx.current_usage.total_tokens == OPENAI_INPUT + 5


# -- clamp ---------------------------------------------------------------------------------


def test_clamp_lowers_max_completion_tokens_in_the_body_the_server_receives() -> None:
    fake = FakeLLM(reply="word " * 100)
    client = openai_client(tracker(), fake)
    # 8 input tokens leave micro(60) for output at micro(2) each: 30 output tokens.
    with budget(max_cost_usd=micro(OPENAI_INPUT + 60), preflight="clamp") as ctx:
        answer = chat(client, max_completion_tokens=1000)
    assert fake.last_request is not None
    assert fake.last_request.body["max_completion_tokens"] == 30
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens == 30
    assert ctx.current_usage.cost_usd == micro(OPENAI_INPUT + 60) and ctx.exceeded


def test_clamp_lowers_anthropic_max_tokens() -> None:
    fake = FakeLLM(reply="word " * 100)
    client = anthropic_client(tracker(), fake)
    with budget(max_cost_usd=micro(ANTHROPIC_ESTIMATE + 80), preflight="clamp"):
        answer = message(client, max_tokens=1000)
    assert fake.last_request is not None and fake.last_request.body["max_tokens"] == 40
    assert answer.stop_reason == "max_tokens" and answer.usage.output_tokens == 40


def test_clamp_leaves_a_request_that_fits_alone_and_refuses_below_its_floor() -> None:
    fake = FakeLLM(reply=REPLY)
    client = openai_client(tracker(), fake)
    with budget(max_tokens=OPENAI_INPUT + 100, preflight="clamp"):
        chat(client, max_tokens=100)
    assert fake.requests[-1].body["max_tokens"] == 100
    ctx = budget(max_tokens=OPENAI_INPUT + 15, preflight="clamp")
    with ctx, pytest.raises(TokenLimitReached) as refused:
        chat(client, max_tokens=100)  # 15 output tokens is below min_output_tokens=16
    assert refused.value.reason == "clamp" and fake.calls == 1
    assert ctx.state.reserved.tokens == 0


def test_nested_clamp_lowers_for_the_tightest_and_every_budget_reserves_on_it() -> None:
    gate = ThreadGate(FakeLLM(reply=REPLY))
    client = gated_openai(tracker(), gate)
    outer = budget(max_tokens=10_000, preflight="worst_case")
    inner = budget(max_tokens=OPENAI_INPUT + 20, preflight="clamp")
    seen: dict[str, int] = {}

    def call() -> None:
        with outer, inner:
            chat(client, max_tokens=500)

    with executor(max_workers=1) as pool:
        future = pool.submit(call)
        with gate.changed:
            gate.changed.wait_for(lambda: gate.waiting == 1, timeout=30)
        seen["outer"], seen["inner"] = outer.state.reserved.tokens, inner.state.reserved.tokens
        gate.opened.set()
        future.result()
    assert seen == {"outer": OPENAI_INPUT + 20, "inner": OPENAI_INPUT + 20}
    assert gate.fake.requests[-1].body["max_tokens"] == 20


# -- unpriced models and free endpoints ------------------------------------------------------


def test_an_unpriced_model_is_refused_by_a_cost_budget_before_sending() -> None:
    fake = FakeLLM(reply=REPLY)
    client = openai_client(tracker(), fake)
    with budget(max_cost_usd=1), pytest.raises(BudgetExceeded) as refused:
        client.chat.completions.create(model="my-finetune", messages=MESSAGES)
    text = str(refused.value)
    assert refused.value.reason == "unpriced"
    assert "register_model('my-finetune'" in text and "allow_unpriced=True" in text
    assert fake.calls == 0


def test_allow_unpriced_counts_tokens_but_no_cost() -> None:
    fake = FakeLLM(reply=REPLY)
    client = openai_client(tracker(), fake)
    with budget(max_cost_usd=micro(20), max_tokens=20, allow_unpriced=True) as ctx:
        client.chat.completions.create(model="my-finetune", messages=MESSAGES)
        with pytest.raises(TokenLimitReached):  # its 13 tokens count: 13 + 8 > 20
            client.chat.completions.create(model="my-finetune", messages=MESSAGES)
    assert ctx.unpriced_calls == 1
    assert ctx.current_usage.total_tokens == OPENAI_INPUT + 5
    assert ctx.current_usage.cost_usd == 0 and ctx.remaining_budget == micro(20)
    with budget(max_tokens=100) as tokens_only:  # a token budget never needs a price
        client.chat.completions.create(model="my-finetune", messages=MESSAGES)
    assert tokens_only.current_usage.calls == 1


def test_free_endpoints_are_never_refused() -> None:
    fake = FakeLLM(reply=REPLY)
    client = anthropic_client(tracker(), fake)
    with budget(max_tokens=0) as ctx:
        assert ctx.exceeded
        counted = client.messages.count_tokens(model=ANTHROPIC_MODEL, messages=MESSAGES)
    assert counted.input_tokens > 0 and fake.calls == 1


def test_a_cache_hit_is_neither_refused_nor_charged() -> None:
    fake = FakeLLM(reply=REPLY, when_exhausted="repeat")
    client = openai_client(tracker(cache="memory"), fake)
    with budget(max_tokens=OPENAI_INPUT + 5) as ctx:
        first = chat(client)
        assert ctx.exceeded
        again = chat(client)  # answered from the cache
        with pytest.raises(TokenLimitReached):
            chat(client, temperature=0.5)  # a different request: a miss, refused
    assert again.choices[0].message.content == first.choices[0].message.content
    assert ctx.current_usage.calls == 1 and fake.calls == 1


def test_errors_carry_their_attributes_and_tree() -> None:
    assert issubclass(BudgetExceeded, TokenBudgetError)
    assert issubclass(TokenLimitReached, TokenBudgetError)
    error = BudgetExceeded(
        "x", limit=Decimal(1), spent=Decimal(0), estimate=Decimal(2), budget_name="b"
    )
    assert (error.limit, error.spent, error.estimate, error.budget_name) == (1, 0, 2, "b")
    assert error.reason is None


def test_settings_are_checked() -> None:
    for bad in (
        {"max_cost_usd": -1},
        {"max_tokens": -1},
        {"preflight": "maybe"},
        {"on_exceed": "shout"},
        {"warn_at": 1.5},
        {"min_output_tokens": 0},
        {"per": "week"},
        {"max_cost_usd": "nan"},
        {"max_cost_usd": "ten dollars"},
    ):
        with pytest.raises(ValueError):
            budget(**bad)
    assert budget(max_cost_usd=0.1).max_cost_usd == Decimal("0.1")
