"""Anthropic through the real anthropic SDK, on httpx2 clients (anthropic 2.x accepts no other)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import anthropic
import httpx2
import pytest

from tokenbudget import TokenTracker, Usage
from tokenbudget.providers import count_text_tokens
from tokenbudget.providers.anthropic import (
    AnthropicProvider,
    count_messages_input,
    normalise_anthropic_usage,
)

from ..support import (
    StubBook,
    async_client,
    collect,
    fixture_bytes,
    fixture_json,
    resolve,
    sync_client,
)
from .helpers import JSON, SSE, Recorder

M = Decimal(1_000_000)
MESSAGES = [{"role": "user", "content": "What does section 4.2 of the contract say?"}]


def routes(message: str = "anthropic/messages.json", stream: str = "") -> dict[str, Any]:
    table: dict[str, Any] = {
        "/v1/messages/count_tokens": (fixture_bytes("anthropic/count_tokens.json"), JSON),
        "/v1/messages": (fixture_bytes(message), JSON),
    }
    if stream:
        table["/v1/messages"] = (fixture_bytes(stream), SSE)
    return table


def sdk(tracker: TokenTracker, handler: Recorder, mode: str = "sync") -> Any:
    """An ``Anthropic`` (or, for ``mode="async"``, ``AsyncAnthropic``) client over ``handler``."""
    if mode == "async":
        http = async_client(tracker, "httpx2", handler)
        return anthropic.AsyncAnthropic(api_key="sk-ant-test", http_client=http, max_retries=0)
    http = sync_client(tracker, "httpx2", handler)
    return anthropic.Anthropic(api_key="sk-ant-test", http_client=http, max_retries=0)


# -- normalisation ---------------------------------------------------------------------


def test_input_includes_cache_reads_and_writes_split_by_lifetime() -> None:
    usage = normalise_anthropic_usage(fixture_json("anthropic/messages.json")["usage"])
    assert usage == Usage(
        input_tokens=21 + 1800 + 2400,
        output_tokens=12,
        cached_input_tokens=2400,
        cache_write_tokens=1800,
        cache_write_1h_tokens=1500,
    )
    assert usage.uncached_input_tokens == 21


def test_server_tool_requests_become_extra_units() -> None:
    usage = normalise_anthropic_usage(fixture_json("anthropic/messages_web_search.json")["usage"])
    assert usage.input_tokens == 3125
    assert usage.output_tokens == 410
    assert dict(usage.extra) == {"web_search_requests": 2}


def test_older_answers_without_cache_breakdown_are_all_5m_writes() -> None:
    usage = normalise_anthropic_usage(
        {"input_tokens": 10, "cache_creation_input_tokens": 90, "output_tokens": 3}
    )
    assert (usage.input_tokens, usage.cache_write_tokens, usage.cache_write_1h_tokens) == (
        100,
        90,
        0,
    )


# -- JSON answers through the SDK ---------------------------------------------------------


def expected_messages_cost() -> Decimal:
    # claude-sonnet-4-6: $3 in, $0.30 cache read, $3.75 5m write, $6 1h write, $15 out.
    return (
        21 * Decimal(3)
        + 2400 * Decimal("0.30")
        + 300 * Decimal("3.75")
        + 1500 * Decimal(6)
        + 12 * Decimal(15)
    ) / M


def check_messages_record(tracker: TokenTracker, book: StubBook) -> None:
    (record,) = tracker.records
    assert record.provider == "anthropic"
    assert record.endpoint == "messages"
    assert record.model == "claude-sonnet-4-6"
    assert record.request_model == "claude-sonnet-4-6"
    assert record.response_id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert record.service_tier == "standard"
    assert record.usage == normalise_anthropic_usage(
        fixture_json("anthropic/messages.json")["usage"]
    )
    assert not record.estimated
    assert record.cost_usd == expected_messages_cost() == Decimal("0.011088")
    assert book.calls[-1]["service_tier"] == "standard"


async def test_messages(tracker: TokenTracker, book: StubBook, mode: str) -> None:
    handler = Recorder("httpx2", routes())
    message = await resolve(
        sdk(tracker, handler, mode).messages.create(
            model="claude-sonnet-4-6", max_tokens=256, messages=MESSAGES
        )
    )
    assert message.content[0].type == "text"
    assert message.usage.cache_read_input_tokens == 2400  # the SDK got the answer untouched
    assert handler.body() == {"model": "claude-sonnet-4-6", "max_tokens": 256, "messages": MESSAGES}
    check_messages_record(tracker, book)


def test_web_search_requests_and_priority_tier(tracker: TokenTracker, book: StubBook) -> None:
    handler = Recorder("httpx2", routes("anthropic/messages_web_search.json"))
    sdk(tracker, handler).messages.create(
        model="claude-haiku-4-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": "When was Claude Shannon born?"}],
        tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}],
    )
    record = tracker.last_record
    assert record is not None
    assert record.usage.extra == {"web_search_requests": 2}
    assert record.service_tier == "priority"
    assert book.calls[-1]["service_tier"] == "priority"
    # claude-haiku-4-5: $1 in, $5 out, $10 per 1,000 web searches.
    assert record.cost_usd == (3125 * 1 + 410 * 5) / M + 2 * Decimal("0.01")


# -- streams -----------------------------------------------------------------------------


def check_stream_record(tracker: TokenTracker) -> None:
    (record,) = tracker.records
    assert record.stream
    assert record.error is None
    assert record.usage == Usage(
        input_tokens=12 + 2048,
        output_tokens=87,
        cached_input_tokens=2048,
        reasoning_tokens=41,
    )
    assert record.model == "claude-sonnet-4-6"
    assert record.service_tier == "standard"
    assert record.cost_usd == (12 * 3 + 2048 * Decimal("0.30") + 87 * 15) / M


def test_stream_through_the_sdk_stream_helper(tracker: TokenTracker) -> None:
    """``messages.stream()``: the SDK rebuilds the final message from the events."""
    handler = Recorder("httpx2", routes(stream="anthropic/messages_stream.sse"))
    client = sdk(tracker, handler)
    with client.messages.stream(
        model="claude-sonnet-4-6", max_tokens=1024, messages=MESSAGES
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.startswith("Olá!")
    # message_delta omitted the cache fields: message_start's values survive, for the SDK too.
    assert final.usage.cache_read_input_tokens == 2048
    assert final.usage.output_tokens == 87
    check_stream_record(tracker)


async def test_stream_events(tracker: TokenTracker, mode: str) -> None:
    """``messages.create(stream=True)``: the caller gets every event but the pings."""
    handler = Recorder("httpx2", routes(stream="anthropic/messages_stream.sse"))
    client = sdk(tracker, handler, mode)
    events = await resolve(
        client.messages.create(
            model="claude-sonnet-4-6", max_tokens=1024, messages=MESSAGES, stream=True
        )
    )
    kinds = [event.type for event in await collect(events)]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "ping" not in kinds
    check_stream_record(tracker)


async def test_error_event_mid_stream_is_recorded_once_estimated(
    tracker: TokenTracker, mode: str
) -> None:
    handler = Recorder("httpx2", routes(stream="anthropic/messages_stream_error.sse"))
    client = sdk(tracker, handler, mode)
    events = await resolve(
        client.messages.create(
            model="claude-sonnet-4-6", max_tokens=512, messages=MESSAGES, stream=True
        )
    )
    read = events.__anext__ if mode == "async" else events.__next__
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError, match="overloaded"):
        while True:
            event = await resolve(read())
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                seen.append(event.delta.text)
    assert seen == ["Once upon a time", ", in a quiet village by the sea,"]
    (record,) = tracker.records
    assert record.estimated
    assert record.usage.input_tokens == 25  # reported by message_start
    counted, _ = count_text_tokens("".join(seen), "claude-sonnet-4-6")
    assert record.usage.output_tokens == counted  # counted from the text seen
    assert record.error is not None and "Overloaded" in record.error
    assert record.cost_usd == (25 * 3 + counted * 15) / M


# -- free and odd answers --------------------------------------------------------------------


async def test_count_tokens_records_nothing_billable(tracker: TokenTracker, mode: str) -> None:
    handler = Recorder("httpx2", routes())
    counted = await resolve(
        sdk(tracker, handler, mode).messages.count_tokens(
            model="claude-sonnet-4-6", messages=MESSAGES
        )
    )
    assert counted.input_tokens == 2095
    (record,) = tracker.records
    assert record.endpoint == "count_tokens"
    assert record.usage == Usage()
    assert record.cost_usd == 0
    assert tracker.usage.total_tokens == 0


def test_answer_without_usage_is_estimated_from_the_request(tracker: TokenTracker) -> None:
    body = fixture_json("anthropic/messages.json")
    del body["usage"]
    handler = Recorder("httpx2", {"/v1/messages": (json.dumps(body).encode(), JSON)})
    system = "You are a careful contract lawyer."
    sdk(tracker, handler).messages.create(
        model="claude-sonnet-4-6", max_tokens=256, system=system, messages=MESSAGES
    )
    record = tracker.last_record
    assert record is not None and record.estimated
    request = {"system": system, "messages": MESSAGES}
    assert record.usage.input_tokens == count_messages_input(request, "claude-sonnet-4-6") > 0
    assert record.usage.output_tokens > 0  # counted from the answer's text


def test_wrap_anthropic_tracks_a_copy(tracker: TokenTracker) -> None:
    handler = Recorder("httpx2", routes())
    original = anthropic.Anthropic(
        api_key="sk-ant-test",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )
    wrapped = tracker.wrap_anthropic(original)
    wrapped.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=MESSAGES)
    original.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=MESSAGES)
    assert len(handler.requests) == 2
    assert tracker.usage.calls == 1
    assert tracker.usage_by_provider["anthropic"].input_tokens == 4221


def test_match_ignores_other_paths_and_methods() -> None:
    from tokenbudget.providers import RequestView

    provider = AnthropicProvider()
    body = b'{"model": "claude-sonnet-4-6"}'
    assert provider.match(RequestView("GET", "api.anthropic.com", "/v1/models")) is None
    batches = RequestView("POST", "api.anthropic.com", "/v1/messages/batches", body=body)
    assert provider.match(batches) is None
    beta = provider.match(RequestView("POST", "api.anthropic.com", "/v1/messages", body=body))
    assert beta is not None and beta.kind == "messages" and not beta.stream
