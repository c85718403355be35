"""The fake Anthropic API through the real ``anthropic`` SDK (httpx2 only: anthropic 2.x)."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic.types import (
    Message,
    MessageTokensCount,
    RawContentBlockDeltaEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
)

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM, FakeReply

from ..support import collect, resolve, tokens

MODEL = "claude-sonnet-4-6"
SYSTEM = "You answer in one sentence."
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
REPLY = "The capital of France is Paris, on the Seine."
PROMPT_TOKENS = tokens(SYSTEM, MODEL) + tokens(MESSAGES[0]["content"], MODEL)


def make_client(fake: FakeLLM, mode: str) -> Any:
    """An Anthropic client (sync or async) on a tracked httpx2 client over ``fake``."""
    tracker = TokenTracker()
    if mode == "async":
        http = tracker.async_httpx_client(transport=fake)
        return anthropic.AsyncAnthropic(api_key="sk-ant-fake", http_client=http, max_retries=0)
    http = tracker.httpx_client(transport=fake)
    return anthropic.Anthropic(api_key="sk-ant-fake", http_client=http, max_retries=0)


async def test_messages_json(mode: str) -> None:
    client = make_client(FakeLLM([REPLY]), mode)

    message = await resolve(
        client.messages.create(model=MODEL, max_tokens=256, system=SYSTEM, messages=MESSAGES)
    )

    assert isinstance(message, Message)
    assert message.content[0].type == "text"
    assert message.content[0].text == REPLY
    assert (message.model, message.role, message.stop_reason) == (MODEL, "assistant", "end_turn")
    assert message.id.startswith("msg_01")
    assert message.usage.input_tokens == PROMPT_TOKENS
    assert message.usage.output_tokens == tokens(REPLY, MODEL)
    assert message.usage.cache_read_input_tokens == message.usage.cache_creation_input_tokens == 0


async def test_messages_stream_events(mode: str) -> None:
    client = make_client(FakeLLM([REPLY]), mode)

    stream = await resolve(
        client.messages.create(
            model=MODEL, max_tokens=256, system=SYSTEM, messages=MESSAGES, stream=True
        )
    )
    events = await collect(stream)

    kinds = [event.type for event in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    start, delta = events[0], events[-2]
    assert isinstance(start, RawMessageStartEvent)
    assert (start.message.usage.input_tokens, start.message.usage.output_tokens) == (
        PROMPT_TOKENS,
        1,
    )
    texts = [e.delta.text for e in events if isinstance(e, RawContentBlockDeltaEvent)]
    assert "".join(texts) == REPLY
    assert isinstance(delta, RawMessageDeltaEvent)
    assert delta.delta.stop_reason == "end_turn"
    assert (delta.usage.input_tokens, delta.usage.output_tokens) == (
        PROMPT_TOKENS,
        tokens(REPLY, MODEL),
    )


async def test_messages_stream_helper(mode: str) -> None:
    """The SDK's stream manager builds the final message out of the fake's events."""
    client = make_client(FakeLLM([REPLY]), mode)
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": MESSAGES}
    if mode == "async":
        async with client.messages.stream(**kwargs) as stream:
            text = "".join([piece async for piece in stream.text_stream])
            final = await stream.get_final_message()
    else:
        with client.messages.stream(**kwargs) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
    assert text == final.content[0].text == REPLY
    assert final.usage.output_tokens == tokens(REPLY, MODEL)


async def test_count_tokens(mode: str) -> None:
    fake = FakeLLM()
    client = make_client(fake, mode)

    counted = await resolve(
        client.messages.count_tokens(model=MODEL, system=SYSTEM, messages=MESSAGES)
    )

    assert isinstance(counted, MessageTokensCount)
    assert counted.input_tokens == PROMPT_TOKENS
    assert fake.last_request is not None
    assert fake.last_request.endpoint == "count_tokens"


async def test_cache_usage(mode: str) -> None:
    """Anthropic's input_tokens exclude the cache reads and writes the reply reports."""
    reply = FakeReply(text=REPLY, cached_tokens=4, cache_write_tokens=3, cache_write_1h_tokens=1)
    client = make_client(FakeLLM([reply]), mode)

    message = await resolve(
        client.messages.create(model=MODEL, max_tokens=256, system=SYSTEM, messages=MESSAGES)
    )

    usage = message.usage
    assert usage.cache_read_input_tokens == 4
    assert usage.cache_creation_input_tokens == 3
    assert usage.cache_creation is not None
    assert usage.cache_creation.ephemeral_1h_input_tokens == 1
    assert usage.cache_creation.ephemeral_5m_input_tokens == 2
    assert usage.input_tokens == PROMPT_TOKENS - 7


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, anthropic.BadRequestError),
        (401, anthropic.AuthenticationError),
        (404, anthropic.NotFoundError),
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
        (529, anthropic.InternalServerError),
    ],
)
async def test_errors_raise_the_sdk_error(mode: str, status: int, error: type[Exception]) -> None:
    fake = FakeLLM([FakeReply(status=status)])
    client = make_client(fake, mode)

    with pytest.raises(error) as caught:
        await resolve(client.messages.create(model=MODEL, max_tokens=16, messages=MESSAGES))

    assert isinstance(caught.value, anthropic.APIStatusError)
    assert caught.value.status_code == status
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert caught.value.request_id == body["request_id"]
    assert fake.calls == 1
