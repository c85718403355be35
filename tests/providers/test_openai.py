"""The OpenAI provider end to end through the real openai SDK: httpx and httpx2, sync and async."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openai
import pytest
import respx

import tokenbudget
from tokenbudget import TokenTracker, Usage

from ..support import StubBook, collect, cost, fixture_bytes, mock_transport, resolve, response


class FakeOpenAI:
    """Serves the OpenAI fixtures by path; remembers the request bodies it saw."""

    def __init__(self, family: str) -> None:
        self.family = family
        self.bodies: list[dict[str, Any]] = []
        self.routes: dict[str, tuple[str, str]] = {
            "/v1/chat/completions": ("openai/chat.json", "openai/chat_stream.sse"),
            "/v1/responses": ("openai/responses.json", "openai/responses_stream.sse"),
            "/v1/embeddings": ("openai/embeddings.json", ""),
            "/v1/completions": ("openai/completions.json", ""),
        }

    def __call__(self, request: Any) -> Any:
        body = json.loads(request.content)
        self.bodies.append(body)
        plain, streamed = self.routes[request.url.path]
        if body.get("stream"):
            data = fixture_bytes(streamed)
            asked = (body.get("stream_options") or {}).get("include_usage")
            if request.url.path == "/v1/chat/completions" and not asked:
                data = fixture_bytes("openai/chat_stream_no_usage.sse")
            headers = {"content-type": "text/event-stream", "x-request-id": "req_123"}
            return response(self.family, 200, headers=headers, content=data)
        headers = {"content-type": "application/json", "x-request-id": "req_123"}
        return response(self.family, 200, headers=headers, content=fixture_bytes(plain))


@pytest.fixture
def tracker() -> TokenTracker:
    return TokenTracker(prices=StubBook())


@pytest.fixture
def server(family: str) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(family)
    if family == "httpx":
        # respx intercepts under the real httpx.HTTPTransport that the tracker wraps.
        with respx.mock(base_url="https://api.openai.com", assert_all_called=False) as mock:
            mock.route().mock(side_effect=fake)
            yield fake
    else:
        yield fake


def sdk(tracker: TokenTracker, server: FakeOpenAI, mode: str = "sync") -> Any:
    """An ``OpenAI`` (or, for ``mode="async"``, ``AsyncOpenAI``) client over ``server``."""
    is_async = mode == "async"
    kwargs: dict[str, Any] = {}
    if server.family == "httpx2":
        kwargs["transport"] = mock_transport("httpx2", server, is_async=is_async)
    if is_async:
        http_client = tracker.async_httpx_client(family=server.family, **kwargs)
        return openai.AsyncOpenAI(api_key="sk-test", http_client=http_client, max_retries=0)
    http_client = tracker.httpx_client(family=server.family, **kwargs)
    return openai.OpenAI(api_key="sk-test", http_client=http_client, max_retries=0)


MESSAGES = [{"role": "user", "content": "Hi"}]


async def test_chat(tracker: TokenTracker, server: FakeOpenAI, mode: str) -> None:
    client = sdk(tracker, server, mode)
    result = await resolve(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))

    assert result.choices[0].message.content == "Hello! How can I assist you today?"
    assert result.usage is not None and result.usage.total_tokens == 29
    record = tracker.records[-1]
    assert record.provider == "openai"
    assert record.endpoint == "chat"
    assert record.model == "gpt-4o-2024-08-06"
    assert record.request_model == "gpt-4o"
    assert record.usage == Usage(input_tokens=19, output_tokens=10)
    assert record.cost_usd == cost("gpt-4o-2024-08-06", 19, 10) == Decimal("0.0001475")
    assert record.status_code == 200
    assert record.request_id == "req_123"
    assert record.response_id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert record.service_tier == "default"
    summary = tracker.usage
    assert (summary.calls, summary.total_tokens, summary.cost_usd) == (1, 29, Decimal("0.0001475"))
    assert tracker.total_cost == Decimal("0.0001475")


async def test_chat_stream_injects_usage_and_hides_it(
    tracker: TokenTracker, server: FakeOpenAI, mode: str
) -> None:
    client = sdk(tracker, server, mode)
    stream = await resolve(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    )
    chunks = await collect(stream)

    assert server.bodies[-1]["stream_options"] == {"include_usage": True}
    assert len(chunks) == 11
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks)
        == "Hello! How can I help you today?"
    )
    assert all(c.choices for c in chunks), "the injected usage-only chunk must be hidden"
    assert all("usage" not in c.model_dump(exclude_unset=True) for c in chunks)
    assert tracker.usage.calls == 1
    record = tracker.records[-1]
    assert record.stream and not record.estimated and record.error is None
    assert record.usage == Usage(input_tokens=19, output_tokens=10)
    assert record.cost_usd == cost("gpt-4o-mini-2024-07-18", 19, 10)


def test_stream_when_caller_asked_for_usage_is_untouched(
    tracker: TokenTracker, server: FakeOpenAI
) -> None:
    client = sdk(tracker, server)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 29
    assert tracker.records[-1].usage.total_tokens == 29


def test_injected_stream_equals_untouched_stream(server: FakeOpenAI) -> None:
    """What the caller gets with injection on is exactly what it gets with it off."""
    seen = []
    for inject in (True, False):
        tracker = TokenTracker(prices=StubBook(), inject_stream_usage=inject)
        client = sdk(tracker, server)
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        seen.append([c.model_dump(exclude_unset=True) for c in stream])
        assert tracker.usage.calls == 1
    assert seen[0] == seen[1]
    assert "stream_options" in server.bodies[0] and "stream_options" not in server.bodies[1]


def test_stream_without_usage_is_counted_and_estimated(server: FakeOpenAI) -> None:
    tracker = TokenTracker(prices=StubBook(), inject_stream_usage=False)
    client = sdk(tracker, server)
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))

    record = tracker.records[-1]
    assert record.estimated
    # Output counted with tiktoken (o200k): "Hello! How can I help you today?" is 9 tokens;
    # input by OpenAI's rule: 3 priming + 3 per message + "user" (1) + "Hi" (1) = 8.
    assert record.usage == Usage(
        input_tokens=8,
        output_tokens=9,
        estimated=True,
        estimate_reason="the answer reported no usage",
    )
    assert record.cost_usd == cost("gpt-4o-mini-2024-07-18", 8, 9)


def test_responses(tracker: TokenTracker, server: FakeOpenAI) -> None:
    client = sdk(tracker, server)
    result = client.responses.create(model="gpt-4.1", input="Tell me a story")

    assert result.output_text.startswith("In a peaceful grove")
    record = tracker.records[-1]
    assert (record.endpoint, record.model) == ("responses", "gpt-4.1-2025-04-14")
    assert record.usage == Usage(input_tokens=36, output_tokens=87)
    assert record.cost_usd == cost("gpt-4.1-2025-04-14", 36, 87) == Decimal("0.000768")


async def test_responses_stream(tracker: TokenTracker, server: FakeOpenAI, mode: str) -> None:
    client = sdk(tracker, server, mode)
    stream = await resolve(client.responses.create(model="gpt-4.1", input="Hi", stream=True))
    events = await collect(stream)

    assert events[-1].type == "response.completed"
    assert "stream_options" not in server.bodies[-1]
    record = tracker.records[-1]
    assert record.usage == Usage(input_tokens=37, output_tokens=11)
    assert record.cost_usd == cost("gpt-4.1-2025-04-14", 37, 11)
    assert record.service_tier == "default"


async def test_embeddings(tracker: TokenTracker, server: FakeOpenAI, mode: str) -> None:
    result = await resolve(
        sdk(tracker, server, mode).embeddings.create(
            model="text-embedding-3-small", input="The food was delicious"
        )
    )
    assert len(result.data[0].embedding) == 4
    record = tracker.records[-1]
    assert (record.endpoint, record.usage) == ("embeddings", Usage(input_tokens=8))
    assert record.cost_usd == Decimal("0.00000016")


def test_legacy_completions(tracker: TokenTracker, server: FakeOpenAI) -> None:
    client = sdk(tracker, server)
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say this is a test")
    record = tracker.records[-1]
    assert (record.endpoint, record.usage) == (
        "completions",
        Usage(input_tokens=5, output_tokens=7),
    )
    assert record.cost_usd == cost("gpt-3.5-turbo-instruct", 5, 7)


def test_patch_all_tracks_a_plain_client(tracker: TokenTracker, server: FakeOpenAI) -> None:
    with tokenbudget.patched(tracker):
        if server.family == "httpx2":
            http_client: Any = __import__("httpx2").Client(
                transport=mock_transport("httpx2", server)
            )
            client = openai.OpenAI(api_key="sk-test", http_client=http_client)
        else:
            client = openai.OpenAI(api_key="sk-test", http_client=__import__("httpx").Client())
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert tracker.usage.calls == 1
    assert tracker.records[-1].usage.total_tokens == 29


def test_patch_all_tracks_the_sdk_default_client(tracker: TokenTracker) -> None:
    """A plain ``openai.OpenAI()`` builds its own httpx2 client: patch_all tracks it."""
    import httpx2

    server = FakeOpenAI("httpx2")
    real_init = httpx2.HTTPTransport.handle_request
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(httpx2.HTTPTransport, "handle_request", lambda self, request: server(request))
        with tokenbudget.patched(tracker):
            client = openai.OpenAI(api_key="sk-test")
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert httpx2.HTTPTransport.handle_request is real_init
    assert tracker.usage.calls == 1


def test_wrap_openai(tracker: TokenTracker, server: FakeOpenAI) -> None:
    kwargs: dict[str, Any] = {}
    if server.family == "httpx2":
        kwargs["transport"] = mock_transport("httpx2", server)
    module = __import__(server.family)
    original = openai.OpenAI(api_key="sk-test", http_client=module.Client(**kwargs))
    wrapped = tracker.wrap_openai(original)

    wrapped.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert tracker.usage.calls == 1
    original.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert tracker.usage.calls == 1, "the original client stays untracked"
    assert len(server.bodies) == 2


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "openai/chat_cached_reasoning.json",
            Usage(
                input_tokens=2006, output_tokens=300, cached_input_tokens=1920, reasoning_tokens=256
            ),
        ),
        (
            "openai/chat_audio.json",
            Usage(input_tokens=37, output_tokens=53, audio_input_tokens=23, audio_output_tokens=44),
        ),
    ],
)
def test_usage_details(tracker: TokenTracker, family: str, fixture: str, expected: Usage) -> None:
    def handler(request: Any) -> Any:
        return response(family, 200, content=fixture_bytes(fixture))

    http_client = tracker.httpx_client(family=family, transport=mock_transport(family, handler))
    client = openai.OpenAI(api_key="sk-test", http_client=http_client)
    client.chat.completions.create(model="o3-mini", messages=MESSAGES)
    record = tracker.records[-1]
    assert record.usage == expected
    if fixture.endswith("cached_reasoning.json"):
        assert record.service_tier == "flex"
        # 86 uncached at 1.10, 1920 cached at 0.55, 300 output (reasoning included) at 4.40
        assert record.cost_usd == Decimal("0.0024706")


def test_azure_deployment(family: str) -> None:
    tracker = TokenTracker(prices=StubBook())
    seen: list[str] = []

    def handler(request: Any) -> Any:
        seen.append(str(request.url))
        return response(family, 200, content=fixture_bytes("openai/azure_chat.json"))

    http_client = tracker.httpx_client(family=family, transport=mock_transport(family, handler))
    client = openai.AzureOpenAI(
        api_key="azure-key",
        api_version="2024-10-21",
        azure_endpoint="https://contoso.openai.azure.com",
        azure_deployment="my-gpt4o",
        http_client=http_client,
    )
    client.chat.completions.create(model="my-gpt4o", messages=MESSAGES)
    record = tracker.records[-1]
    assert "/openai/deployments/my-gpt4o/chat/completions" in seen[0]
    assert record.provider == "azure"
    assert record.model == "gpt-4o-2024-11-20", "Azure bills the model the response names"
    assert record.request_model == "my-gpt4o"
    assert record.cost_usd == cost("gpt-4o-2024-11-20", 11, 7)


def test_built_in_prices(server: FakeOpenAI) -> None:
    """With the built-in price data: gpt-4o-2024-08-06 is $2.50 in / $10 out per 1M tokens."""
    tracker = TokenTracker()
    client = sdk(tracker, server)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert tracker.records[-1].cost_usd == Decimal("0.0001475")
    assert tracker.records[-1].price_version == tracker.prices.version
