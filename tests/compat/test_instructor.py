"""instructor over the openai SDK, driven through ``patch_all()`` against the independent server."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from .helpers import (
    App,
    assert_cache_hit,
    assert_refused_at_once,
    assert_tracked,
    need,
    refuse,
    refuse_async,
)

instructor = need("instructor", "instructor")
openai = need("openai", "instructor")

pytestmark = pytest.mark.compat("instructor")
PROVIDER = "openai"
MESSAGES = [{"role": "user", "content": "Who wrote the first program?"}]


class Person(BaseModel):
    """The response model: the server's tool call carries ``{"name": "Ada", "age": 36}``."""

    name: str
    age: int


ADA = {"name": "Ada", "age": 36}


def client(app: App, is_async: bool = False) -> Any:
    sdk = (openai.AsyncOpenAI if is_async else openai.OpenAI)(
        base_url=app.wire.base_url, api_key="sk-test"
    )
    return instructor.from_openai(sdk)


def ask(**options: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "response_model": Person, "messages": MESSAGES, **options}


@pytest.mark.scenario("sync", "tools")  # a response model is asked for as a tool call
def test_create(app: App) -> None:
    assert client(app).chat.completions.create(**ask()).model_dump() == ADA
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("async", "tools")
async def test_async_create(app: App) -> None:
    answer = await client(app, is_async=True).chat.completions.create(**ask())
    assert answer.model_dump() == ADA
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("stream")
def test_create_partial(app: App) -> None:
    partials = list(client(app).chat.completions.create_partial(**ask()))
    assert partials[-1].model_dump() == ADA
    assert_tracked(app.tracker, app.wire)


@pytest.mark.scenario("refusal")
def test_refusal(app: App, observe: Any) -> None:
    patched = client(app)
    outcome = refuse(app.wire, lambda: patched.chat.completions.create(**ask()))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("refusal")
async def test_async_refusal(app: App, observe: Any) -> None:
    patched = client(app, is_async=True)
    outcome = await refuse_async(app.wire, lambda: patched.chat.completions.create(**ask()))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("refusal")
def test_stream_refusal(app: App, observe: Any) -> None:
    patched = client(app)
    outcome = refuse(app.wire, lambda: list(patched.chat.completions.create_partial(**ask())))
    observe(outcome)
    assert_refused_at_once(outcome, budget_error_itself=False)


@pytest.mark.scenario("cache")
def test_cache_hit(app: App) -> None:
    patched = client(app)
    answers = [patched.chat.completions.create(**ask()) for _ in "12"]
    assert [answer.model_dump() for answer in answers] == [ADA, ADA]
    assert_cache_hit(app.tracker, app.wire, calls=2)
