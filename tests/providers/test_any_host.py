"""Every API shape on any host: real SDKs against a real server on 127.0.0.1, and a gateway.

No host is mapped: the request's path says which API it is, the model name which
provider prices it. Each call must be recorded under the model's maker with the
exact figures the server sent, at the maker's list price, and keep the host that
answered (``record.via``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from google import genai

from tokenbudget import CallRecord, TokenTracker, budget, calculate_cost
from tokenbudget.testing import FakeLLM, FakeReply

from .gateway import FakeServer, sent_usage

USER = "What is the capital of France?"
MESSAGES = [{"role": "user", "content": USER}]


def _openai(url: str, tracker: TokenTracker, aio: bool) -> Any:
    kind = openai.AsyncOpenAI if aio else openai.OpenAI
    client = tracker.async_httpx_client() if aio else tracker.httpx_client()
    return kind(api_key="sk-test", base_url=url + "/v1", http_client=client, max_retries=0)


def _anthropic(url: str, tracker: TokenTracker, aio: bool) -> Any:
    kind = anthropic.AsyncAnthropic if aio else anthropic.Anthropic
    client = tracker.async_httpx_client() if aio else tracker.httpx_client()
    return kind(api_key="sk-ant-test", base_url=url, http_client=client, max_retries=0)


def _gemini(url: str, tracker: TokenTracker, aio: bool) -> Any:
    options = {
        "base_url": url,
        "httpx_client": tracker.httpx_client(),
        "httpx_async_client": tracker.async_httpx_client(),
    }
    client = genai.Client(api_key="gm-test", http_options=options)
    return client.aio if aio else client


async def _drain(result: Any) -> None:
    """Await and read a result to its end, sync or async, streamed or not."""
    if isinstance(result, Awaitable):
        result = await result
    if hasattr(result, "__aiter__"):
        async for _ in result:
            pass
    elif hasattr(result, "__iter__") and not isinstance(result, (dict, str)):
        for _ in result:
            pass


def _figures(usage: dict[str, Any]) -> tuple[int, int]:
    """(input, output) as the server reported them, in each API's own words."""
    if "promptTokenCount" in usage:
        return usage["promptTokenCount"], usage["candidatesTokenCount"] + usage.get(
            "thoughtsTokenCount", 0
        )
    if "prompt_tokens" in usage:
        return usage["prompt_tokens"], usage["completion_tokens"]
    return usage["input_tokens"], usage["output_tokens"]


@dataclass(frozen=True)
class Shape:
    """One API shape: how to call it through its SDK, and what the record must say."""

    name: str
    provider: str
    model: str
    endpoint: str
    call: Callable[[str, TokenTracker, bool], Any]
    stream: bool = False


def _chat(stream: bool) -> Callable[[str, TokenTracker, bool], Any]:
    def call(url: str, tracker: TokenTracker, aio: bool) -> Any:
        extra: dict[str, Any] = {}
        if stream:  # a gateway gets nothing added: the caller asks for the stream's usage
            extra = {"stream": True, "stream_options": {"include_usage": True}}
        return _openai(url, tracker, aio).chat.completions.create(
            model="gpt-4o", messages=MESSAGES, **extra
        )

    return call


def _responses(stream: bool) -> Callable[[str, TokenTracker, bool], Any]:
    def call(url: str, tracker: TokenTracker, aio: bool) -> Any:
        return _openai(url, tracker, aio).responses.create(
            model="gpt-4o-mini", input=USER, stream=stream
        )

    return call


def _messages(stream: bool) -> Callable[[str, TokenTracker, bool], Any]:
    def call(url: str, tracker: TokenTracker, aio: bool) -> Any:
        return _anthropic(url, tracker, aio).messages.create(
            model="claude-sonnet-4-5", max_tokens=200, messages=MESSAGES, stream=stream
        )

    return call


def _generate(stream: bool) -> Callable[[str, TokenTracker, bool], Any]:
    def call(url: str, tracker: TokenTracker, aio: bool) -> Any:
        models = _gemini(url, tracker, aio).models
        method = models.generate_content_stream if stream else models.generate_content
        return method(model="gemini-2.5-flash", contents=USER)

    return call


SHAPES = [
    Shape("openai-chat", "openai", "gpt-4o", "chat", _chat(False)),
    Shape("openai-chat-stream", "openai", "gpt-4o", "chat", _chat(True), stream=True),
    Shape("openai-responses", "openai", "gpt-4o-mini", "responses", _responses(False)),
    Shape(
        "openai-responses-stream",
        "openai",
        "gpt-4o-mini",
        "responses",
        _responses(True),
        stream=True,
    ),
    Shape("anthropic", "anthropic", "claude-sonnet-4-5", "messages", _messages(False)),
    Shape(
        "anthropic-stream",
        "anthropic",
        "claude-sonnet-4-5",
        "messages",
        _messages(True),
        stream=True,
    ),
    Shape("gemini", "google", "gemini-2.5-flash", "generate_content", _generate(False)),
    Shape(
        "gemini-stream",
        "google",
        "gemini-2.5-flash",
        "generate_content",
        _generate(True),
        stream=True,
    ),
]

#: Figures no tokenizer would count from this prompt: the record must take the server's.
REPLY = FakeReply(text="Paris.", input_tokens=1234, output_tokens=56)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(FakeLLM(reply=REPLY, family="httpx2")).running() as running:
        yield running


def _check(record: CallRecord, shape: Shape, sent: dict[str, Any], via: str) -> None:
    reported = _figures(sent)
    assert reported == (1234, 56)  # what the server put on the wire
    assert record.provider == shape.provider
    assert record.endpoint == shape.endpoint
    assert record.model == shape.model and record.request_model == shape.model
    assert record.stream is shape.stream
    assert (record.input_tokens, record.output_tokens) == reported
    assert not record.estimated and record.error is None
    assert record.via == via
    expected = calculate_cost(shape.model, *reported, provider=shape.provider)
    assert expected > 0
    assert record.cost_usd == expected


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("shape", SHAPES, ids=[shape.name for shape in SHAPES])
async def test_loopback_server_is_recognised_and_priced_by_model(
    server: FakeServer, shape: Shape, aio: bool
) -> None:
    tracker = TokenTracker()  # no hosts mapped
    await _drain(shape.call(server.url, tracker, aio))
    (record,) = tracker.records
    _check(record, shape, server.last_usage(), server.host)
    assert tracker.usage_by_provider[shape.provider].calls == 1


class _Gateway(httpx2.BaseTransport):
    """``FakeLLM`` at a gateway host name (no DNS here): a transport keeping what it sent."""

    def __init__(self) -> None:
        self.fake = FakeLLM(reply=REPLY, family="httpx2")
        self.sent: list[bytes] = []

    def handle_request(self, request: Any) -> Any:
        response = self.fake.handle_request(request)
        body = response.read()
        self.sent.append(body)
        return type(response)(response.status_code, headers=response.headers, content=body)


@pytest.mark.parametrize("shape", SHAPES, ids=[shape.name for shape in SHAPES])
async def test_gateway_host_is_recognised_and_priced_by_model(
    shape: Shape, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = _Gateway()
    host = f"gw-{uuid.uuid4().hex[:8]}.internal:8443"
    tracker = TokenTracker()
    original = tracker.httpx_client

    def through_gateway(**kwargs: Any) -> Any:
        return original(transport=gateway, **kwargs)

    monkeypatch.setattr(tracker, "httpx_client", through_gateway)
    # a gateway may put the API under a prefix of its own
    prefix = "/llm" if shape.provider != "google" else ""
    await _drain(shape.call(f"http://{host}{prefix}", tracker, False))
    (record,) = tracker.records
    _check(record, shape, sent_usage(gateway.sent[-1]), host)


def test_a_gateway_is_named_in_one_warning_per_host(caplog: pytest.LogCaptureFixture) -> None:
    gateway = _Gateway()
    host = f"gw-{uuid.uuid4().hex[:8]}.internal"
    tracker = TokenTracker()
    client = openai.OpenAI(
        api_key="sk-test",
        base_url=f"https://{host}/openai/v1",
        http_client=tracker.httpx_client(transport=gateway),
        max_retries=0,
    )
    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        for model in ("gpt-4o", "gpt-4o-mini", "gpt-4o"):
            client.chat.completions.create(model=model, messages=MESSAGES)
    warnings = [r.getMessage() for r in caplog.records if host in r.getMessage()]
    assert len(warnings) == 1
    assert "OpenAI" in warnings[0] and "model name" in warnings[0]
    assert f"hosts={{'{host}':" in warnings[0]
    assert [r.provider for r in tracker.records] == ["openai"] * 3
    assert tracker.records[1].cost_usd == calculate_cost("gpt-4o-mini", 1234, 56, provider="openai")


def test_an_unknown_model_at_a_gateway_keeps_the_host_in_its_model() -> None:
    gateway = _Gateway()
    tracker = TokenTracker()
    client = openai.OpenAI(
        api_key="sk-test",
        base_url="https://llm.example.net/v1",
        http_client=tracker.httpx_client(transport=gateway),
        max_retries=0,
    )
    client.chat.completions.create(model="acme-70b", messages=MESSAGES)
    (record,) = tracker.records
    assert record.provider == "openai-compatible"
    assert record.model == "llm.example.net/acme-70b"
    assert record.via == "llm.example.net"
    assert record.cost_usd is None  # unpriced, as before: nothing is known of its price


@pytest.mark.parametrize(
    ("provider", "model"),
    [("anthropic-compatible", "acme-claude"), ("gemini-compatible", "acme-gemini")],
)
def test_an_unknown_model_of_another_api_at_a_gateway_is_recorded_unpriced(
    provider: str, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = _Gateway()
    tracker = TokenTracker()
    original = tracker.httpx_client
    monkeypatch.setattr(tracker, "httpx_client", lambda **kw: original(transport=gateway, **kw))

    def call(url: str, tracker: TokenTracker, aio: bool) -> Any:
        if provider.startswith("anthropic"):
            return _anthropic(url, tracker, aio).messages.create(
                model=model, max_tokens=50, messages=MESSAGES
            )
        return _gemini(url, tracker, aio).models.generate_content(model=model, contents=USER)

    call("http://llm.example.net", tracker, False)
    (record,) = tracker.records
    assert record.provider == provider
    assert record.model == f"llm.example.net/{model}"
    assert record.via == "llm.example.net"
    assert (record.input_tokens, record.output_tokens) == (1234, 56)
    assert record.cost_usd is None


def test_a_mapped_host_is_its_provider_and_not_marked() -> None:
    gateway = _Gateway()
    tracker = TokenTracker(hosts={"llm-gw.internal": "anthropic"})
    client = anthropic.Anthropic(
        api_key="k",
        base_url="http://llm-gw.internal",
        http_client=tracker.httpx_client(transport=gateway),
        max_retries=0,
    )
    client.messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=MESSAGES)
    (record,) = tracker.records
    assert record.provider == "anthropic" and record.via is None
    assert record.cost_usd == calculate_cost("claude-sonnet-4-5", 1234, 56, provider="anthropic")


def test_a_budget_counts_a_gateway_call_at_its_list_price() -> None:
    gateway = _Gateway()
    tracker = TokenTracker()
    client = openai.OpenAI(
        api_key="k",
        base_url="http://gw-budget.internal/v1",
        http_client=tracker.httpx_client(transport=gateway),
        max_retries=0,
    )
    # An unpriced call would be refused (budgets fail closed); a priced one is charged.
    with budget(max_cost_usd=Decimal(1)) as scope:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=100)
    assert scope.unpriced_calls == 0
    assert scope.current_usage.cost_usd == calculate_cost("gpt-4o", 1234, 56, provider="openai")
