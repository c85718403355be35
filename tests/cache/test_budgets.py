"""The cache with real budgets: hits cost nothing, are never refused, and charge nothing."""

from __future__ import annotations

from typing import Any

import openai
import pytest

import tokenbudget
from tokenbudget import BudgetExceeded, TokenTracker
from tokenbudget.testing import FakeLLM

from .helpers import CASES, make_sdk

MESSAGES: Any = [{"role": "user", "content": "Capital of France?"}]


@pytest.mark.parametrize(("sdk_name", "family"), CASES)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_hit_is_served_by_a_spent_budget_and_charges_nothing(
    sdk_name: str, family: str, stream: bool
) -> None:
    tracker = TokenTracker(cache="memory")
    sdk = make_sdk(sdk_name, family, "sync", tracker)
    first = await sdk.call(stream=stream)

    with tokenbudget.budget(max_cost_usd=0, name="spent") as spent:
        assert await sdk.call(stream=stream) == first
        with pytest.raises(Exception) as raised:
            await sdk.call("a new question", stream=stream)

    # anthropic 2.x wraps transport exceptions in APIConnectionError (see DESIGN.md).
    error: BaseException | None = raised.value
    while error is not None and not isinstance(error, BudgetExceeded):
        error = error.__cause__
    assert isinstance(error, BudgetExceeded)
    assert sdk.fake.calls == 1
    assert spent.current_usage.calls == 0 and spent.state.usage.cost_usd == 0
    assert tracker.cache_stats.hits == 1


def test_a_tracker_wide_budget_is_not_charged_for_hits() -> None:
    tracker = TokenTracker(cache="memory", max_cost_usd=1)
    fake = FakeLLM(reply="Paris.")
    client = openai.OpenAI(
        api_key="sk", http_client=tracker.httpx_client(transport=fake), max_retries=0
    )
    for _ in range(5):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert fake.calls == 1
    miss = tracker.records[0]
    assert tracker.budgets[0].current_usage.calls == 1
    assert tracker.budgets[0].current_usage.cost_usd == miss.cost_usd
    assert tracker.usage.saved_cost_usd == 4 * (miss.cost_usd or 0)


def test_an_answer_to_a_clamped_request_is_not_stored() -> None:
    """``preflight="clamp"`` lowers max_tokens: that answer is not the one asked for."""
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="The capital of France is Paris, a city on the Seine.")
    client = openai.OpenAI(
        api_key="sk", http_client=tracker.httpx_client(transport=fake), max_retries=0
    )

    def ask() -> Any:
        return client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=4000)

    with tokenbudget.budget(max_cost_usd="0.0005", preflight="clamp"):
        ask()
    assert fake.last_request is not None and fake.last_request.body["max_tokens"] < 4000
    assert tracker.cache_stats.entries == 0

    with tokenbudget.budget(max_cost_usd=10, preflight="clamp"):
        ask()  # nothing lowered: the request went as asked, its answer is stored
    assert fake.last_request.body["max_tokens"] == 4000
    assert tracker.cache_stats.entries == 1
