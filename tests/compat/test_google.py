"""The google-genai SDK, whichever generation is installed, against the independent server."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import Any

import pytest

from tokenbudget import TokenTracker, patched

from .helpers import (
    assert_cache_hit,
    assert_refused_at_once,
    assert_tracked,
    need,
    not_in_this_version,
    refuse,
    refuse_async,
)
from .wire import GEMINI_MODEL, WireServer

genai = need("google.genai", "google-genai")
types = need("google.genai.types", "google-genai")

pytestmark = pytest.mark.compat("google-genai")
PROVIDER = "google"
ASK: dict[str, Any] = {"model": GEMINI_MODEL, "contents": "Say hello."}

Make = Callable[..., Any]


@pytest.fixture(params=["http_client", "wrap_google", "patch_all"])
def route(request: pytest.FixtureRequest) -> str:
    """google-genai takes a tracked client in ``HttpOptions`` (where it has the field),
    ``tracker.wrap_google(client)``, or ``patch_all()``."""
    name: str = request.param
    return name


@pytest.fixture
def make(route: str, tracker: TokenTracker, wire: WireServer) -> Iterator[Make]:
    """``make()``: a google-genai client on the server, tracked by ``route``."""

    def build() -> Any:
        options: dict[str, Any] = {"base_url": wire.root + "/", "api_version": "v1beta"}
        if route == "http_client":
            if "httpx_client" not in types.HttpOptions.model_fields:
                not_in_this_version(
                    f"google-genai {genai.__version__}: no HttpOptions.httpx_client"
                )
            options["httpx_client"] = tracker.httpx_client()
            options["httpx_async_client"] = tracker.async_httpx_client()
        client = genai.Client(api_key="g-test", http_options=types.HttpOptions(**options))
        if route != "wrap_google":
            return client
        try:
            return tracker.wrap_google(client)
        except TypeError as error:  # 1.0-1.5: documented, patch_all() tracks those
            if "patch_all" not in str(error):
                raise
            not_in_this_version(f"google-genai {genai.__version__}: {error}")

    with patched(tracker) if route == "patch_all" else nullcontext():
        yield build


async def async_stream(client: Any, **ask: Any) -> list[Any]:
    """Read an async stream (older releases return the iterator, newer a coroutine of it)."""
    stream = client.aio.models.generate_content_stream(**ask)
    if inspect.isawaitable(stream):
        stream = await stream
    return [chunk async for chunk in stream]


def text_of(chunks: list[Any]) -> str:
    return "".join(chunk.text or "" for chunk in chunks)


@pytest.mark.scenario("sync")
def test_sync(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    client = make()  # kept: google-genai closes its http client when the Client is collected
    answer = client.models.generate_content(**ASK)
    assert answer.text == "Hello."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("async")
async def test_async(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    client = make()
    answer = await client.aio.models.generate_content(**ASK)
    assert answer.text == "Hello."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("stream")
def test_stream(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    client = make()
    chunks = list(client.models.generate_content_stream(**ASK))
    assert text_of(chunks) == "Hello there."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("stream")
async def test_async_stream(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    client = make()
    assert text_of(await async_stream(client, **ASK)) == "Hello there."
    assert_tracked(tracker, wire)


@pytest.mark.scenario("tools")
def test_tools(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    city = types.Schema(type="STRING")
    weather = types.FunctionDeclaration(
        name="get_weather",
        description="The weather in a city.",
        parameters=types.Schema(type="OBJECT", properties={"city": city}, required=["city"]),
    )
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[weather])])
    client = make()
    answer = client.models.generate_content(**ASK, config=config)
    call = answer.candidates[0].content.parts[0].function_call
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    assert_tracked(tracker, wire)


@pytest.mark.scenario("refusal")
def test_refusal(make: Make, wire: WireServer, observe: Any) -> None:
    client = make()
    outcome = refuse(wire, lambda: client.models.generate_content(**ASK))
    observe(outcome)
    assert_refused_at_once(outcome)


@pytest.mark.scenario("refusal")
async def test_async_refusal(make: Make, wire: WireServer, observe: Any) -> None:
    client = make()
    outcome = await refuse_async(wire, lambda: client.aio.models.generate_content(**ASK))
    observe(outcome)
    assert_refused_at_once(outcome)


@pytest.mark.scenario("refusal")
def test_stream_refusal(make: Make, wire: WireServer, observe: Any) -> None:
    client = make()
    outcome = refuse(wire, lambda: list(client.models.generate_content_stream(**ASK)))
    observe(outcome)
    assert_refused_at_once(outcome)


@pytest.mark.scenario("cache")
@pytest.mark.parametrize("tracker", [{"cache": "memory"}], indirect=True)
def test_cache_hit(make: Make, tracker: TokenTracker, wire: WireServer) -> None:
    client = make()
    first, second = (client.models.generate_content(**ASK) for _ in "12")
    assert second.text == first.text
    assert_cache_hit(tracker, wire, calls=2)
