"""Refusals decided when a request is built: a dry run that holds, warns and records nothing.

The SDK-level promise (the caller gets the error itself, nothing sent, no
retry) is in ``test_refusal_sdks``; these pin down the seam itself, over plain
httpx clients of both families.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import pytest

import tokenbudget
from tokenbudget import (
    BudgetExceeded,
    TokenBudgetError,
    TokenLimitReached,
    TokenTracker,
    budget,
)
from tokenbudget.budgets import Amount

from ..support import StubBook, json_answer, mock_transport, resolve

CHAT_URL = "https://api.openai.com/v1/chat/completions"
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
OTHER = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}


class Counting:
    """An inner transport's handler that counts what reaches it."""

    def __init__(self, family: str) -> None:
        self.answer = json_answer(family)
        self.calls = 0

    def __call__(self, request: Any) -> Any:
        self.calls += 1
        return self.answer(request)


class CountingTracker(TokenTracker):
    """Counts the exchanges it begins."""

    begun = 0

    def begin(self, request: Any) -> Any:
        self.begun += 1
        return super().begin(request)


def client_for(tracker: TokenTracker, family: str, mode: str, handler: Any) -> Any:
    inner = mock_transport(family, handler, is_async=mode == "async")
    make = tracker.async_httpx_client if mode == "async" else tracker.httpx_client
    return make(family, transport=inner)


async def post(client: Any, body: dict[str, Any] = CHAT) -> Any:
    return await resolve(client.post(CHAT_URL, json=body))


async def test_a_refused_request_raises_from_build_request_holding_nothing(
    family: str, mode: str
) -> None:
    handler = Counting(family)
    client = client_for(TokenTracker(prices=StubBook()), family, mode, handler)
    with budget(max_tokens=1, name="tiny") as ctx:
        with pytest.raises(TokenLimitReached) as refused:
            client.build_request("POST", CHAT_URL, json=CHAT)
        assert refused.value.reason == "preflight"
        with pytest.raises(TokenLimitReached):
            await post(client)
        assert ctx.state.reserved == Amount(), "a dry run reserves nothing"
    assert handler.calls == 0


async def test_a_request_that_fits_is_built_unchanged_and_held_only_when_sent(
    family: str, mode: str
) -> None:
    handler = Counting(family)
    tracker = TokenTracker(prices=StubBook())
    client = client_for(tracker, family, mode, handler)
    with budget(max_cost_usd=1, preflight="clamp", default_max_output=50) as ctx:
        request = client.build_request("POST", CHAT_URL, json=CHAT)
        assert b"max_tokens" not in request.content, "the dry run's clamp stays in the dry run"
        assert ctx.state.reserved == Amount()
        await post(client)
    assert handler.calls == 1 and tracker.usage.calls == 1


async def test_without_budgets_building_a_request_begins_no_exchange(
    family: str, mode: str
) -> None:
    tracker = CountingTracker(prices=StubBook())
    client = client_for(tracker, family, mode, Counting(family))
    client.build_request("POST", CHAT_URL, json=CHAT)
    assert tracker.begun == 0, "no budget: one cheap check, nothing matched or parsed"
    await post(client)
    assert tracker.begun == 1, "the transport's own"
    with budget(max_cost_usd=1):
        client.build_request("POST", CHAT_URL, json=CHAT)
    assert tracker.begun == 2


def test_budgets_that_let_calls_go_warn_and_call_back_as_when_sending(family: str) -> None:
    """The dry run never warns nor calls ``on_exceed``: the same events as without it."""
    events = []
    for tracker in (TokenTracker(prices=StubBook()), GatedTracker(prices=StubBook())):
        handler = Counting(family)
        client = client_for(tracker, family, "sync", handler)
        seen: list[TokenBudgetError] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with budget(max_tokens=1, on_exceed="warn"):
                client.post(CHAT_URL, json=CHAT)
            with budget(max_tokens=1, on_exceed=seen.append):
                client.post(CHAT_URL, json=CHAT)
        events.append(([str(w.message) for w in caught], [e.reason for e in seen], handler.calls))
    early, sending = events
    assert early == sending
    assert early[1] == ["preflight", "crossed"] and early[2] == 2


async def test_a_call_the_cache_answers_is_not_refused(family: str, mode: str) -> None:
    handler = Counting(family)
    tracker = TokenTracker(prices=StubBook(), cache="memory")
    client = client_for(tracker, family, mode, handler)
    await post(client)  # stored
    stats = tracker.cache_stats
    with budget(max_tokens=1):
        await post(client)  # a hit costs nothing: answered, not refused
        with pytest.raises(TokenLimitReached):
            await post(client, OTHER)
    assert handler.calls == 1
    after = tracker.cache_stats
    assert (after.hits, after.misses) == (stats.hits + 1, stats.misses), "the peek counts nothing"
    assert tracker.usage.calls == 2 and tracker.records[-1].cached


async def test_instrumenting_twice_wraps_once(family: str) -> None:
    tracker = TokenTracker(prices=StubBook())
    client = client_for(tracker, family, "sync", Counting(family))
    wrapper = client.build_request
    tracker.instrument(client)
    TokenTracker(prices=StubBook()).instrument(client)
    assert client.build_request is wrapper
    with budget(max_tokens=1), pytest.raises(TokenLimitReached):
        client.post(CHAT_URL, json=CHAT)


class GatedTracker(TokenTracker):
    """Adds a gate of its own in ``admit``, with no dry run of it."""

    def admit(self, exchange: Any) -> Sequence[Any]:
        return super().admit(exchange)


def test_a_tracker_whose_admit_adds_gates_is_refused_when_sending(family: str) -> None:
    handler = Counting(family)
    tracker = GatedTracker(prices=StubBook())
    client = client_for(tracker, family, "sync", handler)
    with budget(max_tokens=1):
        client.build_request("POST", CHAT_URL, json=CHAT)  # its admit() alone decides
        with pytest.raises(TokenLimitReached):
            client.post(CHAT_URL, json=CHAT)
    assert handler.calls == 0


@pytest.mark.parametrize("limits", [{"max_tokens": 1}, {"max_cost_usd": "0.000001"}])
def test_the_early_refusal_is_the_one_sending_would_raise(
    family: str, limits: dict[str, Any]
) -> None:
    refusals = []
    for tracker in (TokenTracker(prices=StubBook()), GatedTracker(prices=StubBook())):
        client = client_for(tracker, family, "sync", Counting(family))
        client.post(CHAT_URL, json=CHAT)  # 29 tokens, $0.0001475
        with budget(**limits, name="b"), pytest.raises(TokenBudgetError) as refused:
            client.post(CHAT_URL, json=CHAT)
        refusals.append(refused.value)
    early, sending = refusals
    assert type(early) is type(sending) and str(early) == str(sending)
    assert vars(early) == vars(sending)


def test_a_request_to_an_untracked_host_is_left_alone(family: str) -> None:
    handler = Counting(family)
    client = client_for(TokenTracker(prices=StubBook()), family, "sync", handler)
    with budget(max_tokens=1):
        client.post("https://example.com/search", json=CHAT)
    assert handler.calls == 1


def test_budget_exceeded_is_flavoured_for_openai_requests(family: str) -> None:
    openai = pytest.importorskip("openai")
    tracker = TokenTracker(prices=StubBook())
    client = client_for(tracker, family, "sync", Counting(family))
    with budget(max_cost_usd="0.000000001"), pytest.raises(BudgetExceeded) as refused:
        client.post(CHAT_URL, json=CHAT, headers={"User-Agent": "OpenAI/Python 1.40.0"})
    assert isinstance(refused.value, openai.OpenAIError)
    assert type(refused.value).__name__ == "BudgetExceeded"
    assert isinstance(refused.value, tokenbudget.TokenBudgetError)
