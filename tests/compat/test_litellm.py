"""litellm's OpenAI route, driven through ``patch_all()`` against the independent server."""

from __future__ import annotations

import os
from typing import Any

import pytest

from .helpers import (
    WEATHER,
    App,
    assert_cache_hit,
    assert_refused_at_once,
    assert_tracked,
    need,
    refuse,
    refuse_async,
)

# litellm fetches its price map from the internet at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
litellm = need("litellm", "litellm")

pytestmark = [
    pytest.mark.compat("litellm"),
    # litellm's own: pydantic's notes on its TypedDicts, an event loop it leaves open
    pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema"),
    pytest.mark.filterwarnings("ignore:unclosed event loop:ResourceWarning"),
]
PROVIDER = "openai"
MESSAGES = [{"role": "user", "content": "Say hello."}]


def ask(app: App, **options: Any) -> dict[str, Any]:
    return {
        "model": "openai/gpt-4o-mini",
        "api_base": app.wire.base_url,
        "api_key": "sk-test",
        "messages": MESSAGES,
        **options,
    }


def text_of(chunks: list[Any]) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


@pytest.mark.scenario("sync")
def test_completion(app: App) -> None:
    answer = litellm.completion(**ask(app))
    assert answer.choices[0].message.content == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("async")
async def test_acompletion(app: App) -> None:
    answer = await litellm.acompletion(**ask(app))
    assert answer.choices[0].message.content == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("stream")
def test_stream(app: App) -> None:
    assert text_of(list(litellm.completion(**ask(app, stream=True)))) == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("stream")
async def test_async_stream(app: App) -> None:
    stream = await litellm.acompletion(**ask(app, stream=True))
    assert text_of([chunk async for chunk in stream]) == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("tools")
def test_tools(app: App) -> None:
    answer = litellm.completion(**ask(app, tools=[WEATHER]))
    call = answer.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"city": "Paris"}')
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("embeddings")
def test_embeddings(app: App) -> None:
    answer = litellm.embedding(
        model="openai/text-embedding-3-small",
        api_base=app.wire.base_url,
        api_key="sk-test",
        input=["hello"],
    )
    assert list(answer.data[0]["embedding"]) == [0.25, -0.5, 0.75]
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("refusal")
def test_refusal(app: App, observe: Any) -> None:
    outcome = refuse(app.wire, lambda: litellm.completion(**ask(app)))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("refusal")
async def test_async_refusal(app: App, observe: Any) -> None:
    outcome = await refuse_async(app.wire, lambda: litellm.acompletion(**ask(app)))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("refusal")
def test_stream_refusal(app: App, observe: Any) -> None:
    outcome = refuse(app.wire, lambda: list(litellm.completion(**ask(app, stream=True))))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("cache")
def test_cache_hit(app: App) -> None:
    first, second = (litellm.completion(**ask(app)) for _ in "12")
    assert second.choices[0].message.content == first.choices[0].message.content
    assert_cache_hit(app.tracker, app.wire, calls=2)
