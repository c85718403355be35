"""The tracker's seams, through the real openai SDK: ``cache=`` and ``admit``.

A cache is any object with ``lookup(exchange)`` and ``store(exchange, answer)``
(``tokenbudget.cache.ResponseCache``); ``admit(exchange)`` returns the call's
guards, which settle once and may cut a stream, or refuses it. Both are driven
here by minimal stand-ins (the exchange type is internal: typed ``Any``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import openai
import pytest

from tokenbudget import BudgetExceeded, CallRecord, TokenTracker, Usage
from tokenbudget.cache import StoredResponse

from ..support import GatedTracker, StubBook, cost, fixture_bytes, mock_transport, response

MESSAGES = [{"role": "user", "content": "Hi"}]


class DictCache:
    """Keys on the request body; stores what it is given."""

    def __init__(self) -> None:
        self.entries: dict[str, StoredResponse] = {}

    def lookup(self, exchange: Any) -> StoredResponse | None:
        key = exchange.request.body.decode()
        found = self.entries.get(key)
        if found is None:
            exchange.cache_key = key
        return found

    def store(self, exchange: Any, answer: StoredResponse) -> None:
        assert exchange.cache_key is not None
        self.entries[exchange.cache_key] = answer


def serve(calls: list[Any]) -> Any:
    def handler(request: Any) -> Any:
        calls.append(request)
        if b'"stream":true' in request.content:
            events = fixture_bytes("openai/chat_stream.sse").split(b"\n\n")
            return response(
                "httpx2",
                200,
                headers={"content-type": "text/event-stream", "set-cookie": "a=b"},
                content=iter([event + b"\n\n" for event in events if event]),
            )
        return response("httpx2", 200, content=fixture_bytes("openai/chat.json"))

    return handler


@pytest.mark.parametrize("stream", [False, True])
def test_cache_hook_replays_through_the_sdk(stream: bool) -> None:
    calls: list[Any] = []
    tracker = TokenTracker(prices=StubBook(), cache=DictCache())
    http_client = tracker.httpx_client(transport=mock_transport("httpx2", serve(calls)))
    client = openai.OpenAI(api_key="sk-test", http_client=http_client)

    def call() -> Any:
        if stream:
            chunks = client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            )
            return [c.model_dump() for c in chunks]
        return client.chat.completions.create(model="gpt-4o", messages=MESSAGES).model_dump()

    first, second = call(), call()
    assert first == second
    assert len(calls) == 1, "the second call never reached the server"
    miss, hit = tracker.records
    assert not miss.cached and hit.cached
    assert hit.cost_usd == 0 and hit.saved_cost_usd == miss.cost_usd
    assert hit.usage == miss.usage == Usage(input_tokens=19, output_tokens=10)
    assert tracker.usage.cached_calls == 1 and tracker.usage.saved_cost_usd == miss.cost_usd


def test_abandoned_stream_is_not_stored() -> None:
    calls: list[Any] = []
    cache = DictCache()
    tracker = TokenTracker(prices=StubBook(), cache=cache)
    http_client = tracker.httpx_client(transport=mock_transport("httpx2", serve(calls)))
    client = openai.OpenAI(api_key="sk-test", http_client=http_client)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    next(iter(stream))
    stream.close()
    assert cache.entries == {}


class Guard:
    watches_stream = True

    def __init__(self, stop_after: int | None = None) -> None:
        self.progress = 0
        self.settled: list[CallRecord] = []
        self.stop_after = stop_after

    def on_progress(self, exchange: Any) -> None:
        self.progress += 1
        if self.stop_after is not None and self.progress > self.stop_after:
            raise BudgetExceeded("stop", limit=Decimal(0), spent=Decimal(0))

    def settle(self, record: CallRecord) -> None:
        self.settled.append(record)


def test_guards_settle_once_and_can_cut_a_stream() -> None:
    calls: list[Any] = []
    guard = Guard(stop_after=2)
    tracker = GatedTracker(lambda exchange: [guard], prices=StubBook())
    http_client = tracker.httpx_client(transport=mock_transport("httpx2", serve(calls)))
    client = openai.OpenAI(api_key="sk-test", http_client=http_client)

    assert client.chat.completions.create(model="gpt-4o", messages=MESSAGES).usage is not None
    assert [r.cost_usd for r in guard.settled] == [cost("gpt-4o-2024-08-06", 19, 10)]

    chunks = []
    with pytest.raises(BudgetExceeded):
        for chunk in client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        ):
            chunks.append(chunk)
    assert len(guard.settled) == 2 and guard.settled[-1].error is not None
    assert tracker.usage.calls == 2


def test_a_refusal_sends_nothing() -> None:
    calls: list[Any] = []

    def refuse(exchange: Any) -> list[Any]:
        raise BudgetExceeded("no", limit=Decimal(1), spent=Decimal(1), estimate=Decimal("0.1"))

    tracker = GatedTracker(refuse, prices=StubBook())
    http_client = tracker.httpx_client(transport=mock_transport("httpx2", serve(calls)))
    client = openai.OpenAI(api_key="sk-test", http_client=http_client, max_retries=3)
    with pytest.raises(BudgetExceeded) as raised:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert raised.value.estimate == Decimal("0.1")
    assert calls == [] and tracker.usage.calls == 0
