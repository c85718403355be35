"""langchain-openai's ChatOpenAI, driven through ``patch_all()`` against the independent server."""

from __future__ import annotations

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

langchain_openai = need("langchain_openai", "langchain-openai")

pytestmark = pytest.mark.compat("langchain-openai")
PROVIDER = "openai"


def chat(app: App) -> Any:
    return langchain_openai.ChatOpenAI(
        model="gpt-4o-mini", base_url=app.wire.base_url, api_key="sk-test"
    )


@pytest.mark.scenario("sync")
def test_invoke(app: App) -> None:
    assert chat(app).invoke("Say hello.").content == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("async")
async def test_ainvoke(app: App) -> None:
    assert (await chat(app).ainvoke("Say hello.")).content == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("stream")
def test_stream(app: App) -> None:
    assert "".join(chunk.content for chunk in chat(app).stream("Say hello.")) == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("stream")
async def test_astream(app: App) -> None:
    chunks = [chunk.content async for chunk in chat(app).astream("Say hello.")]
    assert "".join(chunks) == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("tools")
def test_tools(app: App) -> None:
    answer = chat(app).bind_tools([WEATHER]).invoke("Weather in Paris?")
    call = answer.tool_calls[0]
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Paris"})
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("embeddings")
def test_embeddings(app: App) -> None:
    embeddings = langchain_openai.OpenAIEmbeddings(
        model="text-embedding-3-small",
        base_url=app.wire.base_url,
        api_key="sk-test",
        check_embedding_ctx_length=False,  # send the text, not tiktoken's ids in chunks
    )
    assert embeddings.embed_query("hello") == [0.25, -0.5, 0.75]
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("refusal")
def test_refusal(app: App, observe: Any) -> None:
    model = chat(app)
    outcome = refuse(app.wire, lambda: model.invoke("Say hello."))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("refusal")
async def test_async_refusal(app: App, observe: Any) -> None:
    model = chat(app)
    outcome = await refuse_async(app.wire, lambda: model.ainvoke("Say hello."))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("refusal")
def test_stream_refusal(app: App, observe: Any) -> None:
    model = chat(app)
    outcome = refuse(app.wire, lambda: list(model.stream("Say hello.")))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("cache")
def test_cache_hit(app: App) -> None:
    model = chat(app)
    first, second = (model.invoke("Say hello.") for _ in "12")
    assert second.content == first.content
    assert_cache_hit(app.tracker, app.wire, calls=2)
