"""Billed units in OpenAI answers, through the real openai SDK and the built-in prices.

Each test serves an answer shaped as OpenAI sends it (the recorded fixtures,
with the usage details or output items under test) and checks the usage the
tracker read and the cost it priced from the shipped price data: cache writes
(gpt-6-sol bills them at 1.25x input), web and file search calls (per call),
chat search models (one search per request) and audio tokens.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import hypothesis.strategies as st
import openai
import pytest
from hypothesis import given, settings

from tokenbudget import TokenTracker, calculate_cost
from tokenbudget._core import Endpoint, ServerSentEvent
from tokenbudget.providers import OpenAIProvider

from ..support import async_client, fixture_bytes, fixture_json, resolve, response, sync_client

M = Decimal(1_000_000)


def serve(family: str, body: bytes, content_type: str = "application/json") -> Any:
    def handler(request: Any) -> Any:
        return response(family, 200, headers={"content-type": content_type}, content=body)

    return handler


def client(
    tracker: TokenTracker, family: str, body: bytes, *, sse: bool = False, mode: str = "sync"
) -> Any:
    handler = serve(family, body, "text/event-stream" if sse else "application/json")
    if mode == "async":
        http = async_client(tracker, family, handler)
        return openai.AsyncOpenAI(api_key="sk-test", http_client=http, max_retries=0)
    return openai.OpenAI(
        api_key="sk-test", http_client=sync_client(tracker, family, handler), max_retries=0
    )


def responses_body(
    model: str, usage: dict[str, Any], extra_items: list[dict[str, Any]] = ()
) -> bytes:  # type: ignore[assignment]
    document = fixture_json("openai/responses.json")
    document["model"] = model
    document["usage"] = usage
    document["output"] = [*extra_items, *document["output"]]
    return json.dumps(document).encode()


def responses_stream(
    model: str, usage: dict[str, Any], extra_items: list[dict[str, Any]] = ()
) -> bytes:  # type: ignore[assignment]
    lines = fixture_bytes("openai/responses_stream.sse").decode().split("\n")
    out = []
    for line in lines:
        if line.startswith("data: ") and '"response":' in line:
            event = json.loads(line[6:])
            event["response"]["model"] = model
            if event["type"] == "response.completed":
                event["response"]["usage"] = usage
                event["response"]["output"] = [*extra_items, *event["response"]["output"]]
            line = "data: " + json.dumps(event, separators=(",", ":"))
        out.append(line)
    return "\n".join(out).encode()


SOL_USAGE = {
    "input_tokens": 120_000,
    "input_tokens_details": {"cached_tokens": 40_000, "cache_write_tokens": 60_000},
    "output_tokens": 2_000,
    "output_tokens_details": {"reasoning_tokens": 500},
    "total_tokens": 122_000,
}
#: gpt-6-sol: input $2, cache reads $0.2, cache writes $2.5, output $10 per 1M.
SOL_COST = (
    20_000 * Decimal(2) + 40_000 * Decimal("0.2") + 60_000 * Decimal("2.5") + 2_000 * 10
) / M


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_responses_cache_writes_are_read_and_priced(family: str, mode: str) -> None:
    tracker = TokenTracker()
    sdk = client(tracker, family, responses_body("gpt-6-sol", SOL_USAGE), mode=mode)
    await resolve(sdk.responses.create(model="gpt-6-sol", input="Hi"))
    (record,) = tracker.records
    assert record.usage.cache_write_tokens == 60_000
    assert record.usage.cached_input_tokens == 40_000
    assert record.cost_usd == SOL_COST
    assert record.cost_usd == calculate_cost(
        "gpt-6-sol", 120_000, 2_000, cached_input_tokens=40_000, cache_write_tokens=60_000
    )


def test_responses_stream_cache_writes_are_read(family: str) -> None:
    tracker = TokenTracker()
    sdk = client(tracker, family, responses_stream("gpt-6-sol", SOL_USAGE), sse=True)
    for _ in sdk.responses.create(model="gpt-6-sol", input="Hi", stream=True):
        pass
    (record,) = tracker.records
    assert record.usage.cache_write_tokens == 60_000
    assert record.cost_usd == SOL_COST


def test_chat_cache_writes_are_read(family: str) -> None:
    document = fixture_json("openai/chat.json")
    document["model"] = "gpt-6-sol"
    document["usage"] = {
        "prompt_tokens": 10_000,
        "completion_tokens": 100,
        "total_tokens": 10_100,
        "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 8_000},
    }
    tracker = TokenTracker()
    sdk = client(tracker, family, json.dumps(document).encode())
    sdk.chat.completions.create(model="gpt-6-sol", messages=[{"role": "user", "content": "Hi"}])
    (record,) = tracker.records
    assert record.usage.cache_write_tokens == 8_000
    assert record.cost_usd == (2_000 * Decimal(2) + 8_000 * Decimal("2.5") + 100 * 10) / M


PLAIN_USAGE = {
    "input_tokens": 1_000,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 200,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 1_200,
}
TOOL_ITEMS = [
    {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {"type": "search", "query": "a"},
    },
    {
        "type": "web_search_call",
        "id": "ws_2",
        "status": "completed",
        "action": {"type": "search", "query": "b"},
    },
    {
        "type": "file_search_call",
        "id": "fs_1",
        "status": "completed",
        "queries": ["c"],
        "results": None,
    },
]
#: gpt-4o: input $2.5, output $10 per 1M; web search $0.01, file search $0.0025 per call.
TOOL_COST = (1_000 * Decimal("2.5") + 200 * 10) / M + 2 * Decimal("0.01") + Decimal("0.0025")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_responses_tool_calls_are_counted(family: str, mode: str) -> None:
    tracker = TokenTracker()
    sdk = client(
        tracker, family, responses_body("gpt-4o-2024-08-06", PLAIN_USAGE, TOOL_ITEMS), mode=mode
    )
    await resolve(
        sdk.responses.create(model="gpt-4o", input="Search", tools=[{"type": "web_search"}])
    )
    (record,) = tracker.records
    assert dict(record.usage.extra) == {"web_search_requests": 2, "file_search_requests": 1}
    assert record.cost_usd == TOOL_COST
    assert record.cost_usd == calculate_cost(
        "gpt-4o", 1_000, 200, units={"web_search_requests": 2, "file_search_requests": 1}
    )


def test_responses_stream_tool_calls_are_counted(family: str) -> None:
    tracker = TokenTracker()
    body = responses_stream("gpt-4o-2024-08-06", PLAIN_USAGE, TOOL_ITEMS)
    sdk = client(tracker, family, body, sse=True)
    for _ in sdk.responses.create(model="gpt-4o", input="Search", stream=True):
        pass
    (record,) = tracker.records
    assert dict(record.usage.extra) == {"web_search_requests": 2, "file_search_requests": 1}
    assert record.cost_usd == TOOL_COST


def test_an_answer_without_tool_calls_has_no_units(family: str) -> None:
    tracker = TokenTracker()
    sdk = client(tracker, family, responses_body("gpt-4o-2024-08-06", PLAIN_USAGE))
    sdk.responses.create(model="gpt-4o", input="Hi")
    (record,) = tracker.records
    assert not record.usage.extra
    assert record.cost_usd == (1_000 * Decimal("2.5") + 200 * 10) / M


def test_chat_search_model_bills_one_search_per_request(family: str) -> None:
    document = fixture_json("openai/chat.json")
    document["model"] = "gpt-4o-search-preview-2025-03-11"
    document["usage"] = {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    tracker = TokenTracker()
    sdk = client(tracker, family, json.dumps(document).encode())
    sdk.chat.completions.create(
        model="gpt-4o-search-preview", messages=[{"role": "user", "content": "News?"}]
    )
    (record,) = tracker.records
    assert dict(record.usage.extra) == {"web_search_requests": 1}
    assert record.cost_usd == (100 * Decimal("2.5") + 50 * 10) / M + Decimal("0.025")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_audio_preview_bills_audio_tokens_at_audio_prices(family: str, mode: str) -> None:
    tracker = TokenTracker()
    sdk = client(tracker, family, fixture_bytes("openai/chat_audio.json"), mode=mode)
    await resolve(
        sdk.chat.completions.create(
            model="gpt-4o-audio-preview", messages=[{"role": "user", "content": "Say hi"}]
        )
    )
    (record,) = tracker.records
    usage = record.usage
    assert (usage.audio_input_tokens, usage.audio_output_tokens) == (23, 44)
    # text $2.5 / $10, audio $40 / $80 per 1M (gpt-4o-audio-preview's model page)
    expected = (14 * Decimal("2.5") + 23 * 40 + 9 * 10 + 44 * 80) / M
    assert record.cost_usd == expected
    assert expected == calculate_cost(
        "gpt-4o-audio-preview", 37, 53, audio_input_tokens=23, audio_output_tokens=44
    )


def test_mini_audio_preview_has_audio_prices() -> None:
    cost = calculate_cost(
        "gpt-4o-mini-audio-preview",
        1_000,
        1_000,
        audio_input_tokens=1_000,
        audio_output_tokens=1_000,
    )
    assert cost == (1_000 * 10 + 1_000 * 20) / M


@pytest.mark.parametrize(
    "body",
    [
        responses_body("gpt-6-sol", SOL_USAGE),
        responses_body("gpt-4o-2024-08-06", PLAIN_USAGE, TOOL_ITEMS),
    ],
    ids=["cache-writes", "tool-calls"],
)
def test_the_fast_path_reads_what_a_full_parse_reads(family: str, body: bytes) -> None:
    """api.openai.com answers are scanned, not parsed; a gateway's are parsed in full."""
    scanned, parsed = TokenTracker(), TokenTracker()
    handler = serve(family, body)
    model = json.loads(body)["model"]
    client(scanned, family, body).responses.create(model=model, input="Hi")
    gateway = openai.OpenAI(
        api_key="sk-test",
        base_url="https://llm-gateway.example.net/v1",
        http_client=sync_client(parsed, family, handler),
        max_retries=0,
    )
    gateway.responses.create(model=model, input="Hi")
    (fast,), (full,) = scanned.records, parsed.records
    assert full.via == "llm-gateway.example.net"
    assert fast.usage == full.usage
    assert fast.cost_usd == full.cost_usd and fast.cost_usd is not None


_items = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["web_search_call", "file_search_call", "message", "reasoning"])}
    ),
    st.dictionaries(
        st.sampled_from(["type", "id", "status"]),
        st.none() | st.integers() | st.text(max_size=4) | st.lists(st.integers(), max_size=2),
    ),
    st.none() | st.integers() | st.text(max_size=6) | st.lists(st.integers(), max_size=2),
)


@settings(max_examples=60, deadline=None)
@given(output=st.lists(_items, max_size=8) | st.none() | st.text(max_size=4), stream=st.booleans())
def test_any_output_items_are_counted_safely(output: Any, stream: bool) -> None:
    provider = OpenAIProvider()
    endpoint = Endpoint("openai", "responses", provider, request_model="gpt-4o", stream=stream)
    reader = provider.reader(endpoint)
    document = {"id": "resp_1", "model": "gpt-4o", "output": output, "usage": PLAIN_USAGE}
    if stream:
        event = {"type": "response.completed", "response": document}
        reader.on_event(ServerSentEvent(event="response.completed", data=json.dumps(event)))
    else:
        reader.on_body(json.dumps(document).encode())
    usage = reader.result().usage
    assert usage is not None
    kinds = (
        [i.get("type") for i in output if isinstance(i, dict)] if isinstance(output, list) else []
    )
    expected = {
        unit: n
        for unit, n in (
            ("web_search_requests", kinds.count("web_search_call")),
            ("file_search_requests", kinds.count("file_search_call")),
        )
        if n
    }
    assert dict(usage.extra) == expected
