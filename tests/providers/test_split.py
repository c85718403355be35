"""Every SSE fixture, split at every byte offset, gives the same usage and the same caller bytes.

Driven through a tracked client over a mock transport that serves the body in
two chunks (so the transport, content decoding and the injected-usage filter
see every split), and through the bare reader fed by
:class:`~tokenbudget._core.SSEDecoder`, with no HTTP at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

from tokenbudget import CallRecord, TokenTracker
from tokenbudget._core import SSEDecoder
from tokenbudget.providers import Endpoint, Observation, RequestView, default_registry

from ..support import StubBook, fixture_bytes
from .helpers import PRICES


@dataclass(frozen=True)
class Case:
    fixture: str
    host: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)
    port: int | None = None

    def json(self) -> dict[str, Any]:
        return {"stream": True, "messages": [{"role": "user", "content": "Hello!"}], **self.body}

    @property
    def url(self) -> str:
        scheme, port = ("http", f":{self.port}") if self.port else ("https", "")
        return f"{scheme}://{self.host}{port}{self.path}"

    def request(self) -> RequestView:
        return RequestView(
            "POST",
            self.host,
            self.path,
            port=self.port,
            headers={"content-type": "application/json"},
            body=json.dumps(self.json()).encode(),
        )

    def endpoint(self) -> Endpoint:
        endpoint = default_registry.match(self.request())
        assert endpoint is not None, self
        return endpoint


CHAT = "/v1/chat/completions"
CASES = [
    Case(
        "anthropic/messages_stream.sse",
        "api.anthropic.com",
        "/v1/messages",
        {"model": "claude-sonnet-4-6"},
    ),
    Case(
        "anthropic/messages_stream_error.sse",
        "api.anthropic.com",
        "/v1/messages",
        {"model": "claude-sonnet-4-6"},
    ),
    Case(
        "google/stream_generate_content.sse",
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
    ),
    Case(
        "groq/chat_stream.sse",
        "api.groq.com",
        "/openai" + CHAT,
        {"model": "llama-3.3-70b-versatile"},
    ),
    Case(
        "deepseek/chat_stream.sse",
        "api.deepseek.com",
        "/chat/completions",
        {"model": "deepseek-chat"},
    ),
    Case("mistral/chat_stream.sse", "api.mistral.ai", CHAT, {"model": "mistral-small-latest"}),
    Case("xai/chat_stream.sse", "api.x.ai", CHAT, {"model": "grok-4-fast-reasoning"}),
    Case(
        "together/chat_stream.sse",
        "api.together.xyz",
        CHAT,
        {"model": "meta-llama/Llama-3.3-70B-Instruct-Turbo"},
    ),
    Case("fireworks/chat_stream.sse", "api.fireworks.ai", "/inference" + CHAT, {"model": "llama"}),
    Case(
        "perplexity/chat_stream.sse", "api.perplexity.ai", "/chat/completions", {"model": "sonar"}
    ),
    Case("openrouter/chat_stream.sse", "openrouter.ai", "/api" + CHAT, {"model": "openai/gpt-5"}),
    Case("local/chat_stream.sse", "localhost", CHAT, {"model": "qwen3:8b"}, port=11434),
]
IDS = [case.fixture for case in CASES]


def observe(case: Case, parts: list[bytes]) -> Observation:
    """The reader's observation after the SSE decoder was fed ``parts``."""
    endpoint = case.endpoint()
    reader = endpoint.handler.reader(endpoint)
    decoder = SSEDecoder()
    for part in parts:
        for event in decoder.feed(part):
            reader.on_event(event)
    for event in decoder.flush():
        reader.on_event(event)
    return reader.result()


def summary(observation: Observation) -> tuple[Any, ...]:
    return (
        observation.usage,
        observation.model,
        observation.response_id,
        observation.service_tier,
        observation.complete,
        observation.error,
    )


class Halves(httpx2.SyncByteStream):
    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    def __iter__(self) -> Any:
        yield from self.parts


class SplitServer:
    """Serves the fixture in the parts set before each request."""

    def __init__(self, tracker: TokenTracker) -> None:
        self.parts: list[bytes] = []
        self.tracker = tracker
        self.client = tracker.httpx_client(
            family="httpx2", transport=httpx2.MockTransport(self.handle)
        )

    def handle(self, request: Any) -> Any:
        headers = {"content-type": "text/event-stream"}
        return httpx2.Response(200, headers=headers, stream=Halves(self.parts))

    def call(self, case: Case, parts: list[bytes]) -> tuple[bytes, CallRecord]:
        """The caller's bytes and the record of one call answered with ``parts``."""
        self.parts = parts
        out = self.client.post(case.url, json=case.json()).content
        record = self.tracker.last_record
        assert record is not None
        return out, record


def record_key(record: CallRecord) -> tuple[Any, ...]:
    return (record.usage, record.model, record.cost_usd, record.error, record.service_tier)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_split_through_a_tracked_client(case: Case) -> None:
    data = fixture_bytes(case.fixture)
    tracker = TokenTracker(prices=StubBook(PRICES), max_records=4)
    server = SplitServer(tracker)
    whole_out, whole = server.call(case, [data])
    assert whole.usage.total_tokens > 0
    for offset in range(1, len(data)):
        out, record = server.call(case, [data[:offset], data[offset:]])
        assert out == whole_out, offset
        assert record_key(record) == record_key(whole), offset
    assert tracker.usage.calls == len(data)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_split_through_the_reader(case: Case) -> None:
    data = fixture_bytes(case.fixture)
    whole = summary(observe(case, [data]))
    assert whole[0] is not None  # every fixture reports usage somewhere
    for offset in range(1, len(data)):
        assert summary(observe(case, [data[:offset], data[offset:]])) == whole, offset


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_byte_by_byte_and_three_way_splits(case: Case) -> None:
    data = fixture_bytes(case.fixture)
    whole = summary(observe(case, [data]))
    assert summary(observe(case, [data[i : i + 1] for i in range(len(data))])) == whole
    step = max(1, len(data) // 97)
    for first in range(1, len(data), step):
        second = (first * 7) % len(data)
        a, b = sorted((first, max(second, 1)))
        assert summary(observe(case, [data[:a], data[a:b], data[b:]])) == whole, (a, b)


def test_injected_usage_is_hidden_from_the_caller_at_every_split() -> None:
    """For hosts where tokenbudget adds stream_options, the caller never sees the usage chunk."""
    case = next(c for c in CASES if c.fixture.startswith("deepseek"))
    data = fixture_bytes(case.fixture)
    server = SplitServer(TokenTracker(prices=StubBook(PRICES), max_records=4))
    for offset in range(1, len(data), 5):
        out, record = server.call(case, [data[:offset], data[offset:]])
        assert b'"usage"' not in out and b"[DONE]" in out
        assert record.usage.input_tokens == 1046
