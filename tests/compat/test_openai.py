"""The openai SDK, whichever generation is installed, against the independent server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tokenbudget import TokenTracker

from .helpers import (
    WEATHER,
    Make,
    assert_cache_hit,
    assert_refused_at_once,
    assert_tracked,
    need,
    not_in_this_version,
    refuse,
    refuse_async,
    stainless_clients,
)
from .wire import WireServer

openai = need("openai", "openai")

pytestmark = pytest.mark.compat("openai")
PROVIDER = "openai"
MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(params=["http_client", "wrap_openai", "patch_all"])
def route(request: pytest.FixtureRequest) -> str:
    """A tracked client, a tracked copy (``tracker.wrap_openai``), or ``patch_all()``."""
    name: str = request.param
    return name


@pytest.fixture
def make(route: str, tracker: TokenTracker, wire: WireServer) -> Iterator[Make]:
    """``make(is_async=False)``: an openai client on the server, tracked by ``route``."""
    classes = (openai.OpenAI, openai.AsyncOpenAI)
    options = {"api_key": "sk-test", "base_url": wire.base_url}
    with stainless_clients(route, tracker, classes, tracker.wrap_openai, **options) as build:
        yield build


def text_of(chunks: list[Any]) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


@pytest.mark.scenario("sync")
def test_sync(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    answer = make().chat.completions.create(model=MODEL, messages=MESSAGES)
    assert answer.choices[0].message.content == "Hello there."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("async")
async def test_async(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    answer = await make(is_async=True).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert answer.choices[0].message.content == "Hello there."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("stream")
def test_stream(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    chunks = list(make().chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    assert text_of(chunks) == "Hello there."
    assert all(not chunk.choices or chunk.choices[0].delta is not None for chunk in chunks)
    assert_tracked(tracker, wire)


@pytest.mark.scenario("stream")
async def test_async_stream(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    client = make(is_async=True)
    stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]
    assert text_of(chunks) == "Hello there."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("tools")
def test_tools(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    answer = make().chat.completions.create(model=MODEL, messages=MESSAGES, tools=[WEATHER])
    call = answer.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "get_weather",
        {"city": "Paris"},
    )
    assert_tracked(tracker, wire)


@pytest.mark.scenario("embeddings")
def test_embeddings(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    answer = make().embeddings.create(model="text-embedding-3-small", input="hello")
    assert list(answer.data[0].embedding) == [0.25, -0.5, 0.75]
    assert_tracked(tracker, wire)


def responses_of(client: Any) -> Any:
    if not hasattr(client, "responses"):
        not_in_this_version(f"openai {openai.__version__} has no client.responses")
    return client.responses


@pytest.mark.scenario("Responses")
def test_responses(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    answer = responses_of(make()).create(model=MODEL, input="Say hello.")
    assert answer.output_text == "Hello."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("Responses")
async def test_responses_async_stream(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    stream = await responses_of(make(is_async=True)).create(
        model=MODEL, input="Say hello.", stream=True
    )
    kinds = [event.type async for event in stream]
    assert kinds == ["response.created", "response.output_text.delta", "response.completed"]
    assert_tracked(tracker, wire)


@pytest.mark.scenario("refusal")
def test_refusal(make: Make, wire: WireServer, observe: Any) -> None:
    client = make()
    outcome = refuse(wire, lambda: client.chat.completions.create(model=MODEL, messages=MESSAGES))
    observe(outcome)
    assert_refused_at_once(outcome)


@pytest.mark.scenario("refusal")
async def test_async_refusal(make: Make, wire: WireServer, observe: Any) -> None:
    client = make(is_async=True)
    outcome = await refuse_async(
        wire, lambda: client.chat.completions.create(model=MODEL, messages=MESSAGES)
    )
    observe(outcome)
    assert_refused_at_once(outcome)


@pytest.mark.scenario("refusal")
def test_stream_refusal(make: Make, wire: WireServer, observe: Any) -> None:
    client = make()
    outcome = refuse(
        wire,
        lambda: list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)),
    )
    observe(outcome)
    assert_refused_at_once(outcome)


@pytest.mark.scenario("cache")
@pytest.mark.parametrize("tracker", [{"cache": "memory"}], indirect=True)
def test_cache_hit(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    client = make()
    first, second = (client.chat.completions.create(model=MODEL, messages=MESSAGES) for _ in "12")
    assert second.choices[0].message.content == first.choices[0].message.content
    assert_cache_hit(tracker, wire, calls=2)
