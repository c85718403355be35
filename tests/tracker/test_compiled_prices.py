"""A tracker keeps each model's compiled price between calls, and sees every price change."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx2
import openai
import pytest

from tokenbudget import TokenTracker, Usage, register_model
from tokenbudget.pricing import PriceBook, reset_default_book, unregister_models


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    unregister_models()
    reset_default_book()
    yield
    unregister_models()
    reset_default_book()


def _client(tracker: TokenTracker, model: str, prompt: int = 1_000_000) -> openai.OpenAI:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": prompt, "completion_tokens": 0, "total_tokens": prompt},
    }

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=body)

    transport = httpx2.MockTransport(handler)
    return openai.OpenAI(api_key="sk-test", http_client=tracker.httpx_client(transport=transport))


def _cost(client: openai.OpenAI, tracker: TokenTracker, model: str) -> Decimal | None:
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
    return tracker.records[-1].cost_usd


def test_register_model_between_calls_prices_the_next_call_anew() -> None:
    register_model("house-model", input_per_1m="1", output_per_1m="1")
    tracker = TokenTracker()
    client = _client(tracker, "house-model")
    assert _cost(client, tracker, "house-model") == Decimal(1)
    assert _cost(client, tracker, "house-model") == Decimal(1)  # the kept price
    register_model("house-model", input_per_1m="3", output_per_1m="1")
    assert _cost(client, tracker, "house-model") == Decimal(3)


def test_a_registration_in_the_trackers_own_book_prices_the_next_call_anew() -> None:
    tracker = TokenTracker(prices=PriceBook.load())
    client = _client(tracker, "gpt-4o")
    first = _cost(client, tracker, "gpt-4o")
    assert first == _cost(client, tracker, "gpt-4o") == Decimal("2.5")
    tracker.prices.register("gpt-4o", provider="openai", input_per_1m="7", output_per_1m="1")
    assert _cost(client, tracker, "gpt-4o") == Decimal(7)


def test_an_unknown_model_registered_later_gets_priced() -> None:
    tracker = TokenTracker()
    client = _client(tracker, "later-model")
    assert _cost(client, tracker, "later-model") is None
    register_model("later-model", input_per_1m="2", output_per_1m="1")
    assert _cost(client, tracker, "later-model") == Decimal(2)


def test_a_prompt_size_tier_is_chosen_per_call_with_a_kept_price() -> None:
    tiers: list[dict[str, Any]] = [{"above": 200_000, "input": "4", "output": "1"}]
    register_model("tiered-model", input_per_1m="2", output_per_1m="1", tiers=tiers)
    tracker = TokenTracker()
    small = _client(tracker, "tiered-model", prompt=100_000)
    large = _client(tracker, "tiered-model", prompt=1_000_000)
    assert _cost(small, tracker, "tiered-model") == Decimal("0.2")
    assert _cost(large, tracker, "tiered-model") == Decimal(4)
    assert _cost(small, tracker, "tiered-model") == Decimal("0.2")


class _OwnBook(PriceBook):
    """A book whose cost() differs from PriceBook's: never bypassed."""

    def cost(self, *args: Any, **kwargs: Any) -> Decimal | None:
        return Decimal(42)


def test_a_book_with_its_own_cost_is_asked_every_call() -> None:
    tracker = TokenTracker(prices=_OwnBook())
    client = _client(tracker, "gpt-4o")
    assert _cost(client, tracker, "gpt-4o") == Decimal(42)
    assert _cost(client, tracker, "gpt-4o") == Decimal(42)


def test_kept_prices_agree_with_the_book_for_every_builtin_model() -> None:

    book = PriceBook.load()
    usages = [
        Usage(input_tokens=1_234, output_tokens=567, cached_input_tokens=200),
        Usage(
            input_tokens=300_000,
            output_tokens=10,
            cache_write_tokens=1_000,
            cache_write_1h_tokens=400,
            reasoning_tokens=5,
        ),
    ]
    checked = 0
    for provider in book.providers():
        for model, price in book.models(provider).items():
            for tier, batch in ((None, False), ("flex", False), (None, True), ("priority", False)):
                pricer = book.pricer(provider, model, tier, batch)
                if pricer is None:
                    continue
                for usage in usages:
                    expected = price.cost(usage, service_tier=tier, batch=batch)
                    assert pricer(usage) == expected, (provider, model, tier, batch)
                    checked += 1
    assert checked > 1000
