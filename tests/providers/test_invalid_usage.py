"""Figures a provider reports that are not token counts: dropped, counted locally, flagged, warned.

Each bad shape (negative, over the ceiling, a string, a float, a bool, NaN,
infinity, missing) goes through the real SDK on a mock transport, as a JSON
answer and as a stream. The SDK still gets the provider's answer untouched; the
record keeps what was valid, counts the dropped figure locally, says why it is
estimated, and one warning per provider and field is logged.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import anthropic
import openai
import pytest
from google import genai

from tokenbudget import TokenTracker, Usage
from tokenbudget.providers import AnthropicProvider, GoogleProvider, OpenAIProvider
from tokenbudget.providers.compatible import CompatibleProvider, normalise_openrouter_usage

from ..support import (
    StubBook,
    collect,
    fixture_bytes,
    fixture_json,
    mock_transport,
    module,
    resolve,
    tokens,
)
from ..support import response as make_response

#: Bad values, as they appear in the JSON text (NaN and Infinity as Python's json writes them).
BAD = {
    "negative": -5,
    "huge": 2**64,
    "string": "12",
    "float": 12.5,
    "bool": True,
    "nan": float("nan"),
    "infinity": float("inf"),
    "object": {"n": 1},
}
MISSING = object()
MESSAGES = [{"role": "user", "content": "Hi"}]
CONTENT = "Hello! How can I assist you today?"


def _set(usage: dict[str, Any], key: str, value: Any) -> None:
    if value is MISSING:
        usage.pop(key, None)
    else:
        usage[key] = value


def _unique(prefix: str) -> str:
    """A provider name of its own, so that each test sees its own once-only warnings."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _once(family: str, body: bytes) -> Any:
    """A body that can be read once, as a network one (a mock's bytes can be read again,
    and openai's async stream reads its body again after the end to drain it)."""
    mod = module(family)

    class Once(mod.SyncByteStream, mod.AsyncByteStream):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self.read = False

        def __iter__(self) -> Iterator[bytes]:
            if not self.read:
                self.read = True
                yield body

        async def __aiter__(self) -> AsyncIterator[bytes]:
            if not self.read:
                self.read = True
                yield body

    return Once()


def _answer(family: str, body: bytes, content_type: str) -> Any:
    def handler(request: Any) -> Any:
        headers = {"content-type": content_type}
        return make_response(family, 200, headers=headers, stream=_once(family, body))

    return handler


def _client(tracker: TokenTracker, family: str, mode: str, handler: Any) -> Any:
    is_async = mode == "async"
    transport = mock_transport(family, handler, is_async=is_async)
    if is_async:
        return tracker.async_httpx_client(family=family, transport=transport)
    return tracker.httpx_client(family=family, transport=transport)


def _openai(tracker: TokenTracker, family: str, mode: str, handler: Any) -> Any:
    http_client = _client(tracker, family, mode, handler)
    make = openai.AsyncOpenAI if mode == "async" else openai.OpenAI
    return make(
        api_key="sk-test",
        base_url="https://hostile.test/v1",
        http_client=http_client,
        max_retries=0,
    )


def _openai_tracker(name: str) -> TokenTracker:
    return TokenTracker(prices=StubBook(), hosts={"hostile.test": OpenAIProvider(name)})


# -- OpenAI -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [*BAD, "missing"])
async def test_an_invalid_output_count_is_counted_from_the_text(
    family: str, mode: str, shape: str, caplog: pytest.LogCaptureFixture
) -> None:
    name = _unique("openai")
    tracker = _openai_tracker(name)
    body = fixture_json("openai/chat.json")
    bad = MISSING if shape == "missing" else BAD[shape]
    _set(body["usage"], "completion_tokens", bad)
    client = _openai(tracker, family, mode, _answer(family, json.dumps(body).encode(), "json"))

    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        answer = await resolve(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))

    assert answer.choices[0].message.content == CONTENT  # the SDK reads the provider's answer
    record = tracker.records[-1]
    assert record.input_tokens == 19  # the valid figure is kept
    if shape == "missing":  # an absent output count is not reported: nothing to flag
        assert record.output_tokens == 0 and not record.estimated
        return
    assert record.output_tokens == tokens(CONTENT, "gpt-4o-2024-08-06")
    assert record.estimated
    assert record.usage.estimate_reason is not None
    assert record.usage.estimate_reason.startswith("invalid usage: completion_tokens=")
    assert record.cost_usd is not None and record.cost_usd > 0
    warnings = [r for r in caplog.records if name in r.getMessage()]
    assert len(warnings) == 1 and "completion_tokens" in warnings[0].getMessage()


@pytest.mark.parametrize("shape", [*BAD, "missing"])
async def test_an_invalid_input_count_is_counted_from_the_request(
    family: str, mode: str, shape: str
) -> None:
    tracker = _openai_tracker(_unique("openai"))
    body = fixture_json("openai/chat.json")
    _set(body["usage"], "prompt_tokens", MISSING if shape == "missing" else BAD[shape])
    client = _openai(tracker, family, mode, _answer(family, json.dumps(body).encode(), "json"))

    await resolve(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))

    record = tracker.records[-1]
    assert record.output_tokens == 10
    assert 0 < record.input_tokens < 100  # counted from the request's one short message
    assert record.usage.estimate_reason is not None
    assert record.usage.estimate_reason.startswith("invalid usage: prompt_tokens=")


def _stream_with(usage_changes: dict[str, Any]) -> bytes:
    """The OpenAI chat stream fixture with its usage chunk changed."""
    lines = []
    for line in fixture_bytes("openai/chat_stream.sse").decode().split("\n"):
        if line.startswith("data: {") and '"choices":[]' in line:
            chunk = json.loads(line[6:])
            for key, value in usage_changes.items():
                _set(chunk["usage"], key, value)
            line = "data: " + json.dumps(chunk)
        lines.append(line)
    return "\n".join(lines).encode()


@pytest.mark.parametrize("shape", list(BAD))
async def test_a_stream_with_an_invalid_count_is_recorded_estimated(
    family: str, mode: str, shape: str
) -> None:
    tracker = _openai_tracker(_unique("openai"))
    data = _stream_with({"completion_tokens": BAD[shape]})
    client = _openai(tracker, family, mode, _answer(family, data, "text/event-stream"))

    stream = await resolve(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    )
    chunks = await collect(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello! How can I help you today?"
    record = tracker.records[-1]
    assert record.input_tokens == 19
    assert record.output_tokens == tokens(text, "gpt-4o-mini-2024-07-18")
    assert record.usage.estimate_reason is not None
    assert record.usage.estimate_reason.startswith("invalid usage: completion_tokens=")
    assert record.error is None


async def test_details_out_of_range_are_dropped(family: str, mode: str) -> None:
    tracker = _openai_tracker(_unique("openai"))
    body = fixture_json("openai/chat.json")
    body["usage"]["prompt_tokens_details"]["cached_tokens"] = -100
    body["usage"]["completion_tokens_details"]["reasoning_tokens"] = "lots"
    client = _openai(tracker, family, mode, _answer(family, json.dumps(body).encode(), "json"))

    await resolve(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))

    usage = tracker.records[-1].usage
    assert (usage.input_tokens, usage.cached_input_tokens, usage.reasoning_tokens) == (19, 0, 0)
    assert usage.estimate_reason == (
        "invalid usage: prompt_tokens_details.cached_tokens=-100; "
        "completion_tokens_details.reasoning_tokens='lots'"
    )


def test_one_warning_per_provider_and_field(family: str, caplog: pytest.LogCaptureFixture) -> None:
    name = _unique("openai")
    tracker = _openai_tracker(name)
    body = fixture_json("openai/chat.json")
    body["usage"]["completion_tokens"] = -1
    body["usage"]["prompt_tokens"] = "19"
    client = _openai(tracker, family, "sync", _answer(family, json.dumps(body).encode(), "json"))

    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    warnings = [r.getMessage() for r in caplog.records if name in r.getMessage()]
    assert len(warnings) == 2
    assert "prompt_tokens" in warnings[0] and "completion_tokens" in warnings[1]
    assert len(tracker.records) == 3 and all(r.estimated for r in tracker.records)


# -- Anthropic -----------------------------------------------------------------------------------


def _anthropic(tracker: TokenTracker, family: str, mode: str, handler: Any) -> Any:
    http_client = _client(tracker, family, mode, handler)
    make = anthropic.AsyncAnthropic if mode == "async" else anthropic.Anthropic
    return make(
        api_key="sk-ant-test",
        base_url="https://hostile.test",
        http_client=http_client,
        max_retries=0,
    )


def _anthropic_tracker() -> TokenTracker:
    provider = AnthropicProvider(_unique("anthropic"))
    return TokenTracker(prices=StubBook(), hosts={"hostile.test": provider})


@pytest.mark.parametrize("family", ["httpx2"])  # anthropic 2.x takes only httpx2
@pytest.mark.parametrize("shape", [*BAD, "missing"])
async def test_anthropic_invalid_output_count(family: str, mode: str, shape: str) -> None:
    tracker = _anthropic_tracker()
    body = fixture_json("anthropic/messages.json")
    _set(body["usage"], "output_tokens", MISSING if shape == "missing" else BAD[shape])
    client = _anthropic(tracker, family, mode, _answer(family, json.dumps(body).encode(), "json"))

    await resolve(
        client.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=MESSAGES)
    )

    record = tracker.records[-1]
    text = body["content"][0]["text"]
    assert record.output_tokens == tokens(text, "claude-sonnet-4-6")
    assert record.input_tokens == 21 + 1800 + 2400
    assert record.usage.estimate_reason is not None
    assert record.usage.estimate_reason.startswith("invalid usage: output_tokens=")


@pytest.mark.parametrize("family", ["httpx2"])  # anthropic 2.x takes only httpx2
@pytest.mark.parametrize("shape", ["negative", "huge", "string", "nan"])
async def test_anthropic_stream_invalid_final_count(family: str, mode: str, shape: str) -> None:
    tracker = _anthropic_tracker()
    raw = fixture_bytes("anthropic/messages_stream.sse").decode()
    value = json.dumps(BAD[shape])
    data = raw.replace('"output_tokens":87', f'"output_tokens":{value}').encode()
    client = _anthropic(tracker, family, mode, _answer(family, data, "text/event-stream"))

    stream = await resolve(
        client.messages.create(
            model="claude-sonnet-4-6", max_tokens=100, messages=MESSAGES, stream=True
        )
    )
    events = await collect(stream)

    text = "".join(
        getattr(e.delta, "text", "") or getattr(e.delta, "thinking", "") or ""
        for e in events
        if e.type == "content_block_delta"
    )
    record = tracker.records[-1]
    assert record.output_tokens >= tokens(text, "claude-sonnet-4-6") > 0
    assert record.input_tokens == 12 + 2048
    assert record.usage.estimate_reason is not None
    assert record.usage.estimate_reason.startswith("invalid usage: output_tokens=")


# -- Gemini ------------------------------------------------------------------------------------


def _gemini(tracker: TokenTracker, family: str, handler: Any) -> Any:
    http_client = _client(tracker, family, "sync", handler)
    options = genai.types.HttpOptions(httpx_client=http_client, base_url="https://hostile.test")
    return genai.Client(api_key="test-key", http_options=options)


def _google_tracker() -> TokenTracker:
    return TokenTracker(prices=StubBook(), hosts={"hostile.test": GoogleProvider(_unique("g"))})


@pytest.mark.parametrize("shape", ["negative", "huge"])
def test_gemini_invalid_candidates_count(family: str, shape: str) -> None:
    tracker = _google_tracker()
    body = fixture_json("google/generate_content.json")
    body["usageMetadata"]["candidatesTokenCount"] = BAD[shape]
    client = _gemini(tracker, family, _answer(family, json.dumps(body).encode(), "json"))

    answer = client.models.generate_content(model="gemini-2.5-pro", contents="Hi")

    assert answer.text and answer.text.startswith("The chart shows")
    record = tracker.records[-1]
    assert record.usage.estimate_reason is not None
    assert record.usage.estimate_reason.startswith("invalid usage: candidatesTokenCount=")
    assert record.output_tokens >= tokens(answer.text, "gemini-2.5-pro")
    assert record.input_tokens == 5120 + 180


@pytest.mark.parametrize("shape", ["negative", "huge"])
def test_gemini_stream_invalid_prompt_count(family: str, shape: str) -> None:
    tracker = _google_tracker()
    raw = fixture_bytes("google/stream_generate_content.sse").decode()
    data = raw.replace('"promptTokenCount": 54', f'"promptTokenCount": {BAD[shape]}').encode()
    client = _gemini(tracker, family, _answer(family, data, "text/event-stream"))

    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="Hi"))

    assert chunks
    record = tracker.records[-1]
    assert record.output_tokens == 31 + 62
    assert 0 < record.input_tokens < 54  # counted from the one-word request
    assert re.match(r"invalid usage: promptTokenCount=", record.usage.estimate_reason or "")


# -- reported costs ------------------------------------------------------------------------------


@pytest.mark.parametrize("cost", [-1, "0.5", float("nan"), 1e12, True])
def test_an_invalid_reported_cost_is_ignored(family: str, cost: Any) -> None:
    provider = CompatibleProvider(_unique("openrouter"), normalise=normalise_openrouter_usage)
    tracker = TokenTracker(prices=StubBook(), hosts={"hostile.test": provider})
    body = fixture_json("openai/chat.json")
    body["model"] = "gpt-4o"
    body["usage"]["cost"] = cost
    client = _openai(tracker, family, "sync", _answer(family, json.dumps(body).encode(), "json"))

    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    record = tracker.records[-1]
    assert record.usage.reported_cost_usd is None
    assert record.usage.estimate_reason is not None
    assert record.usage.estimate_reason.startswith("invalid usage: cost=")
    assert record.cost_usd is not None and record.cost_usd > Decimal(0)  # priced from the book


# -- sums and other normalisers -----------------------------------------------------------------


@pytest.mark.parametrize("family", ["httpx2"])  # anthropic 2.x takes only httpx2
async def test_a_sum_of_valid_figures_past_the_ceiling_is_dropped(family: str, mode: str) -> None:
    tracker = _anthropic_tracker()
    body = fixture_json("anthropic/messages.json")
    body["usage"].update(input_tokens=900_000_000, cache_read_input_tokens=900_000_000)
    client = _anthropic(tracker, family, mode, _answer(family, json.dumps(body).encode(), "json"))

    await resolve(
        client.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=MESSAGES)
    )

    usage = tracker.records[-1].usage
    assert 0 < usage.input_tokens < 100  # counted from the request instead
    assert usage.estimate_reason == (
        "invalid usage: input_tokens=1800001800 (a sum over the ceiling)"
    )


def test_a_normaliser_given_by_the_user_is_checked_too(family: str) -> None:
    def careless(usage: Any) -> Usage:  # a host's own normaliser, trusting the host
        return Usage(input_tokens=usage["prompt_tokens"], output_tokens=-7)

    provider = OpenAIProvider(_unique("own"), normalise=careless)
    tracker = TokenTracker(prices=StubBook(), hosts={"hostile.test": provider})
    body = fixture_json("openai/chat.json")
    client = _openai(tracker, family, "sync", _answer(family, json.dumps(body).encode(), "json"))

    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    record = tracker.records[-1]
    assert record.input_tokens == 19
    assert record.output_tokens == tokens(CONTENT, "gpt-4o-2024-08-06")
    assert record.usage.estimate_reason == "invalid usage: output_tokens=-7"
