"""pydantic-ai's OpenAI models, driven through ``patch_all()`` against the independent server."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import (
    App,
    assert_cache_hit,
    assert_refused_at_once,
    assert_tracked,
    need,
    refuse,
    refuse_async,
)

pydantic_ai = need("pydantic_ai", "pydantic-ai")
models = need("pydantic_ai.models.openai", "pydantic-ai")
providers = need("pydantic_ai.providers.openai", "pydantic-ai")

pytestmark = [
    pytest.mark.compat("pydantic-ai"),
    # run_sync leaves event loops (and their socket pairs) to the garbage collector
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
PROVIDER = "openai"


def agent(app: App, model: str = "OpenAIChatModel", **options: Any) -> Any:
    provider = providers.OpenAIProvider(base_url=app.wire.base_url, api_key="sk-test")
    return pydantic_ai.Agent(getattr(models, model)("gpt-4o-mini", provider=provider), **options)


@pytest.mark.scenario("sync")
def test_run_sync(app: App) -> None:
    assert agent(app).run_sync("Say hello.").output == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("async")
async def test_run(app: App) -> None:
    assert (await agent(app).run("Say hello.")).output == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("stream")
async def test_run_stream(app: App) -> None:
    async with agent(app).run_stream("Say hello.") as result:
        texts = [text async for text in result.stream_text(delta=True)]
    assert "".join(texts) == "Hello there."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("tools")
def test_tools(app: App) -> None:
    cities: list[str] = []
    weather_agent = agent(app)

    @weather_agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        cities.append(city)
        return "Sunny."

    assert weather_agent.run_sync("Weather in Paris?").output == "Hello there."
    assert cities == ["Paris"]
    assert_tracked(app.tracker, app.wire)  # the tool call, then the answer to its result


@pytest.mark.scenario("Responses")
def test_responses(app: App) -> None:
    assert agent(app, "OpenAIResponsesModel").run_sync("Say hello.").output == "Hello."
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("refusal")
def test_refusal(app: App, observe: Any) -> None:
    model = agent(app)
    outcome = refuse(app.wire, lambda: model.run_sync("Say hello."))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("refusal")
async def test_async_refusal(app: App, observe: Any) -> None:
    model = agent(app)
    outcome = await refuse_async(app.wire, lambda: model.run("Say hello."))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("refusal")
async def test_stream_refusal(app: App, observe: Any) -> None:
    model = agent(app)

    async def stream() -> None:
        async with model.run_stream("Say hello.") as result:
            [text async for text in result.stream_text(delta=True)]

    outcome = await refuse_async(app.wire, stream)
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("cache")
def test_cache_hit(app: App) -> None:
    model = agent(app)
    first, second = (model.run_sync("Say hello.").output for _ in "12")
    assert first == second == "Hello there."
    assert_cache_hit(app.tracker, app.wire, calls=2)
