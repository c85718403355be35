"""The anthropic SDK, whichever generation is installed, against the independent server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tokenbudget import TokenTracker

from .helpers import (
    Make,
    assert_cache_hit,
    assert_refused_at_once,
    assert_tracked,
    need,
    refuse,
    refuse_async,
    stainless_clients,
)
from .wire import WireServer

anthropic = need("anthropic", "anthropic")

pytestmark = pytest.mark.compat("anthropic")
PROVIDER = "anthropic"
MODEL = "claude-haiku-4-5"  # not one the SDK warns is deprecated
ASK: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Say hello."}],
}
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture(params=["http_client", "wrap_anthropic", "patch_all"])
def route(request: pytest.FixtureRequest) -> str:
    """A tracked client, a tracked copy (``tracker.wrap_anthropic``), or ``patch_all()``."""
    name: str = request.param
    return name


@pytest.fixture
def make(route: str, tracker: TokenTracker, wire: WireServer) -> Iterator[Make]:
    """``make(is_async=False)``: an anthropic client on the server, tracked by ``route``."""
    classes = (anthropic.Anthropic, anthropic.AsyncAnthropic)
    options = {"api_key": "sk-ant-test", "base_url": wire.root}
    with stainless_clients(route, tracker, classes, tracker.wrap_anthropic, **options) as build:
        yield build


def text_of(events: list[Any]) -> str:
    deltas = [event.delta for event in events if event.type == "content_block_delta"]
    return "".join(delta.text for delta in deltas)


@pytest.mark.scenario("sync")
def test_sync(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    answer = make().messages.create(**ASK)
    assert answer.content[0].text == "Hello."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("async")
async def test_async(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    answer = await make(is_async=True).messages.create(**ASK)
    assert answer.content[0].text == "Hello."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("stream")
def test_stream(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    events = list(make().messages.create(**ASK, stream=True))
    assert text_of(events) == "Hello."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("stream")
async def test_async_stream(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    stream = await make(is_async=True).messages.create(**ASK, stream=True)
    events = [event async for event in stream]
    assert text_of(events) == "Hello."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("tools")
def test_tools(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    answer = make().messages.create(**ASK, tools=[WEATHER])
    use = answer.content[0]
    assert (use.type, use.name, use.input) == ("tool_use", "get_weather", {"city": "Paris"})
    assert_tracked(tracker, wire)


@pytest.mark.scenario("refusal")
def test_refusal(make: Make, wire: WireServer, observe: Any) -> None:
    client = make()
    outcome = refuse(wire, lambda: client.messages.create(**ASK))
    observe(outcome)
    assert_refused_at_once(outcome)


@pytest.mark.scenario("refusal")
async def test_async_refusal(make: Make, wire: WireServer, observe: Any) -> None:
    client = make(is_async=True)
    outcome = await refuse_async(wire, lambda: client.messages.create(**ASK))
    observe(outcome)
    assert_refused_at_once(outcome)


@pytest.mark.scenario("refusal")
def test_stream_refusal(make: Make, wire: WireServer, observe: Any) -> None:
    client = make()
    outcome = refuse(wire, lambda: list(client.messages.create(**ASK, stream=True)))
    observe(outcome)
    assert_refused_at_once(outcome)


@pytest.mark.scenario("cache")
@pytest.mark.parametrize("tracker", [{"cache": "memory"}], indirect=True)
def test_cache_hit(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    client = make()
    first, second = (client.messages.create(**ASK) for _ in "12")
    assert second.content[0].text == first.content[0].text
    assert_cache_hit(tracker, wire, calls=2)
