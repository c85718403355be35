"""OpenAI-compatible hosts through the real openai SDK: httpx and httpx2, sync and async.

Each host has a recorded JSON answer and a recorded stream under ``fixtures/<host>/``;
the expected usage and cost of each are written out by hand below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker, Usage
from tokenbudget.providers import ProviderRegistry, RequestView, count_text_tokens, default_registry
from tokenbudget.providers.compatible import (
    OpenAICompatibleProvider,
    normalise_deepseek_usage,
    normalise_openai_compatible_usage,
    normalise_openrouter_usage,
    normalise_xai_usage,
)

from ..support import StubBook, async_client, fixture_bytes, module, sync_client
from .helpers import JSON, SSE, answer, chunked_stream

M = Decimal(1_000_000)


@dataclass(frozen=True)
class Host:
    provider: str
    base_url: str
    request_model: str
    json_model: str
    json_usage: Usage
    json_cost: Decimal | None
    stream_model: str
    stream_usage: Usage
    stream_cost: Decimal | None
    injects: bool
    fixtures: str = ""

    @property
    def folder(self) -> str:
        return self.fixtures or self.provider


HOSTS = [
    Host(
        "groq",
        "https://api.groq.com/openai/v1",
        "openai/gpt-oss-120b",
        "openai/gpt-oss-120b",
        Usage(input_tokens=1200, output_tokens=150, cached_input_tokens=1024, reasoning_tokens=96),
        (176 * Decimal("0.15") + 1024 * Decimal("0.075") + 150 * Decimal("0.60")) / M,
        "llama-3.3-70b-versatile",
        Usage(input_tokens=38, output_tokens=4),  # from x_groq.usage
        (38 * Decimal("0.59") + 4 * Decimal("0.79")) / M,
        injects=False,
    ),
    Host(
        "deepseek",
        "https://api.deepseek.com",
        "deepseek-reasoner",
        "deepseek-reasoner",
        # prompt_cache_hit_tokens is the cached part; reasoning is inside completion_tokens.
        Usage(input_tokens=1950, output_tokens=620, cached_input_tokens=1920, reasoning_tokens=480),
        (30 * Decimal("0.55") + 1920 * Decimal("0.14") + 620 * Decimal("2.19")) / M,
        "deepseek-chat",
        Usage(input_tokens=1046, output_tokens=10, cached_input_tokens=1024),
        (22 * Decimal("0.27") + 1024 * Decimal("0.07") + 10 * Decimal("1.10")) / M,
        injects=True,
    ),
    Host(
        "mistral",
        "https://api.mistral.ai/v1",
        "mistral-large-latest",
        "mistral-large-latest",
        Usage(input_tokens=17, output_tokens=28),
        (17 * Decimal(2) + 28 * Decimal(6)) / M,
        "mistral-small-latest",
        Usage(input_tokens=8, output_tokens=12),
        (8 * Decimal("0.10") + 12 * Decimal("0.30")) / M,
        injects=False,
    ),
    Host(
        "xai",
        "https://api.x.ai/v1",
        "grok-3-mini",
        "grok-3-mini",
        # completion_tokens (11) leaves out reasoning_tokens (319): total 660 = 330 + 11 + 319.
        Usage(input_tokens=330, output_tokens=330, cached_input_tokens=283, reasoning_tokens=319),
        (47 * Decimal("0.30") + 283 * Decimal("0.075") + 330 * Decimal("0.50")) / M,
        "grok-4-fast-reasoning",
        Usage(
            input_tokens=332,
            output_tokens=133,
            cached_input_tokens=311,
            reasoning_tokens=120,
            extra=MappingProxyType({"search_sources": 5}),
        ),
        (21 * Decimal("0.20") + 311 * Decimal("0.05") + 133 * Decimal("0.50")) / M,
        injects=True,
    ),
    Host(
        "together",
        "https://api.together.xyz/v1",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        Usage(input_tokens=45, output_tokens=11),
        56 * Decimal("0.88") / M,
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        Usage(input_tokens=47, output_tokens=10),
        57 * Decimal("0.88") / M,
        injects=False,
    ),
    Host(
        "fireworks",
        "https://api.fireworks.ai/inference/v1",
        "accounts/fireworks/models/deepseek-v3p1",
        "accounts/fireworks/models/deepseek-v3p1",
        Usage(input_tokens=2061, output_tokens=14, cached_input_tokens=2048),
        (13 * Decimal("0.56") + 2048 * Decimal("0.28") + 14 * Decimal("1.68")) / M,
        "accounts/fireworks/models/llama-v3p1-8b-instruct",
        Usage(input_tokens=13, output_tokens=11),
        24 * Decimal("0.20") / M,
        injects=False,
    ),
    Host(
        "perplexity",
        "https://api.perplexity.ai",
        "sonar-deep-research",
        "sonar-deep-research",
        # citation tokens are input, reasoning tokens output; the reported cost wins.
        Usage(
            input_tokens=34 + 9210,
            output_tokens=4120 + 61231,
            reasoning_tokens=61231,
            # the searches under the unit the price data names; the request by its context size
            extra=MappingProxyType({"web_search_requests": 18, "requests_low": 1}),
            reported_cost_usd=Decimal("0.32514"),
        ),
        Decimal("0.32514"),
        "sonar",
        Usage(
            input_tokens=9,
            output_tokens=57,
            extra=MappingProxyType({"requests_low": 1}),
            reported_cost_usd=Decimal("0.005066"),
        ),
        Decimal("0.005066"),
        injects=False,
    ),
    Host(
        "openrouter",
        "https://openrouter.ai/api/v1",
        "anthropic/claude-sonnet-4.5",
        "anthropic/claude-sonnet-4.5",
        Usage(
            input_tokens=2100,
            output_tokens=180,
            cached_input_tokens=1500,
            cache_write_tokens=400,
            reported_cost_usd=Decimal("0.00525"),
        ),
        Decimal("0.00525"),
        "openai/gpt-5-2025-08-07",
        Usage(
            input_tokens=19,
            output_tokens=83,
            reasoning_tokens=64,
            reported_cost_usd=Decimal("0.00085375"),
        ),
        Decimal("0.00085375"),
        injects=False,
    ),
    Host(
        "local",
        "http://localhost:11434/v1",
        "llama3.2",
        "llama3.2",
        Usage(input_tokens=31, output_tokens=18),
        Decimal(0),  # local models cost nothing unless priced
        "qwen3:8b",
        Usage(input_tokens=12, output_tokens=3),
        Decimal(0),
        injects=True,  # Ollama documents stream_options.include_usage
    ),
]


class HostServer:
    """Answers chat requests with a host's recorded JSON body or stream."""

    def __init__(self, family: str, host: Host) -> None:
        self.family = family
        self.host = host
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> Any:
        body = json.loads(request.content)
        self.bodies.append(body)
        streamed = body.get("stream") is True
        name = "chat_stream.sse" if streamed else "chat.json"
        data = fixture_bytes(f"{self.host.folder}/{name}")
        return module(self.family).Response(
            200,
            headers={"content-type": SSE if streamed else JSON},
            stream=chunked_stream(self.family, data, size=53),
        )


def client_for(
    tracker: TokenTracker, family: str, host: Host, server: HostServer, is_async: bool
) -> Any:
    if is_async:
        return openai.AsyncOpenAI(
            api_key="test-key",
            base_url=host.base_url,
            http_client=async_client(tracker, family, server),
            max_retries=0,
        )
    return openai.OpenAI(
        api_key="test-key",
        base_url=host.base_url,
        http_client=sync_client(tracker, family, server),
        max_retries=0,
    )


MESSAGES = [{"role": "user", "content": "Hello!"}]
IDS = [host.provider for host in HOSTS]


@pytest.mark.parametrize("host", HOSTS, ids=IDS)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_json_answer(tracker: TokenTracker, family: str, host: Host, is_async: bool) -> None:
    server = HostServer(family, host)
    client = client_for(tracker, family, host, server, is_async)
    answer = client.chat.completions.create(model=host.request_model, messages=MESSAGES)
    if is_async:
        answer = await answer
    assert answer.choices[0].message.content
    (record,) = tracker.records
    assert record.provider == host.provider
    assert record.endpoint == "chat"
    assert record.model == host.json_model
    assert record.usage == host.json_usage
    assert record.cost_usd == host.json_cost
    assert not record.estimated


@pytest.mark.parametrize("host", HOSTS, ids=IDS)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_stream(
    tracker: TokenTracker, book: StubBook, family: str, host: Host, is_async: bool
) -> None:
    server = HostServer(family, host)
    client = client_for(tracker, family, host, server, is_async)
    stream = client.chat.completions.create(model=host.stream_model, messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in await stream] if is_async else list(stream)
    sent = server.bodies[0]
    if host.injects:
        assert sent["stream_options"] == {"include_usage": True}
        # ...and the caller does not see the usage chunk it never asked for.
        assert all(chunk.choices for chunk in chunks)
    else:
        assert "stream_options" not in sent
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    (record,) = tracker.records
    assert record.stream
    assert record.provider == host.provider
    assert record.model == host.stream_model
    assert record.usage == host.stream_usage
    assert record.cost_usd == host.stream_cost
    assert not record.estimated and record.error is None
    assert book.calls[-1]["provider"] == host.provider


def test_stream_options_the_caller_asked_for_stay_visible(
    tracker: TokenTracker, family: str
) -> None:
    host = next(h for h in HOSTS if h.provider == "deepseek")
    server = HostServer(family, host)
    client = client_for(tracker, family, host, server, is_async=False)
    chunks = list(
        client.chat.completions.create(
            model="deepseek-chat",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_cache_hit_tokens == 1024  # type: ignore[attr-defined]
    assert tracker.last_record is not None and tracker.last_record.usage.cached_input_tokens == 1024


# -- the fallback: any other host -----------------------------------------------------------


def test_unknown_host_with_openai_path_is_openai_compatible(
    tracker: TokenTracker, family: str
) -> None:
    host = Host(
        "openai-compatible",
        "https://llm.example.net/v1",
        "acme-70b",
        "llm.example.net/acme-70b-instruct",
        Usage(input_tokens=64, output_tokens=12),
        None,  # unpriced: unknown hosts only see prices registered for them
        "",
        Usage(),
        None,
        injects=False,
    )
    server = HostServer(family, host)
    client = client_for(tracker, family, host, server, is_async=False)
    client.chat.completions.create(model="acme-70b", messages=MESSAGES)
    (record,) = tracker.records
    assert record.provider == "openai-compatible"
    assert record.model == "llm.example.net/acme-70b-instruct"
    assert record.request_model == "acme-70b"
    assert record.usage == host.json_usage
    assert record.cost_usd is None
    assert tracker.usage_by_provider["openai-compatible"].calls == 1
    assert "llm.example.net/acme-70b-instruct" in tracker.usage_by_model


def test_unknown_host_stream_is_not_injected_and_is_estimated(family: str) -> None:
    data = fixture_bytes("openai/chat_stream_no_usage.sse")
    seen: list[Any] = []

    def handler(request: Any) -> Any:
        seen.append(json.loads(request.content))
        return answer(family, data, SSE)

    tracker = TokenTracker()  # the real price book: it knows whose model gpt-4o is
    client = openai.OpenAI(
        api_key="k",
        base_url="https://gateway.internal.example:8443/v1",
        http_client=sync_client(tracker, family, handler),
        max_retries=0,
    )
    text = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        if c.choices
    )
    assert "stream_options" not in seen[0]
    record = tracker.last_record
    assert record is not None and record.estimated
    # Priced by model name at OpenAI's list price; the gateway is kept in ``via``.
    assert record.provider == "openai"
    assert record.via == "gateway.internal.example:8443"
    assert record.model == "gpt-4o-mini-2024-07-18"
    assert record.request_model == "gpt-4o"
    assert record.usage.output_tokens == count_text_tokens(text, "gpt-4o-mini")[0] > 0
    assert record.cost_usd is not None and record.cost_usd > 0


def test_other_loopback_ports_are_local_and_registered_hosts_win(
    book: StubBook, family: str
) -> None:
    host = next(h for h in HOSTS if h.provider == "local")
    # Any loopback port with an OpenAI-style path is a local server...
    tracker = TokenTracker(prices=book)
    server = HostServer(family, host)
    client = openai.OpenAI(
        api_key="k",
        base_url="http://127.0.0.1:5001/v1",
        http_client=sync_client(tracker, family, server),
        max_retries=0,
    )
    client.chat.completions.create(model="llama3.2", messages=MESSAGES)
    assert tracker.last_record is not None and tracker.last_record.provider == "local"
    # ...unless the tracker maps that host to a provider itself.
    mapped = TokenTracker(prices=book, hosts={"127.0.0.1:5001": "openai"})
    client = openai.OpenAI(
        api_key="k",
        base_url="http://127.0.0.1:5001/v1",
        http_client=sync_client(mapped, family, server),
        max_retries=0,
    )
    client.chat.completions.create(model="llama3.2", messages=MESSAGES)
    assert mapped.last_record is not None and mapped.last_record.provider == "openai"


def _never_read() -> bytes:
    raise AssertionError("the body of an untracked request was read")


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/api/upload", "application/json"),
        ("POST", "/v1/files", "multipart/form-data; boundary=x"),
        ("POST", "/survey/responses", "application/json"),
        ("GET", "/v1/chat/completions", "application/json"),
        ("POST", "/v1/chat/completions", "text/plain"),
        ("POST", "/v1/chat/completions", ""),
    ],
)
def test_fallback_never_reads_other_requests(method: str, path: str, content_type: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    view = RequestView(method, "api.example.org", path, headers=headers, load_body=_never_read)
    assert default_registry.match(view) is None


def test_fallback_needs_a_model() -> None:
    headers = {"content-type": "application/json"}
    view = RequestView(
        "POST", "api.example.org", "/v1/chat/completions", headers=headers, body=b'{"messages": []}'
    )
    assert default_registry.match(view) is None


def test_registry_fallbacks_come_after_every_host_lookup() -> None:
    class Claims(OpenAICompatibleProvider):
        def match(self, request: RequestView) -> Any:
            endpoint = super().match(request)
            if endpoint is not None:
                endpoint.provider = "mine"
            return endpoint

    child = ProviderRegistry(parent=default_registry)
    child.register_fallback(Claims())
    headers = {"content-type": "application/json"}
    body = b'{"model": "m", "messages": []}'
    unknown = RequestView("POST", "x.example", "/v1/chat/completions", headers=headers, body=body)
    known = RequestView(
        "POST", "api.groq.com", "/openai/v1/chat/completions", headers=headers, body=body
    )
    assert child.match(unknown).provider == "mine"  # type: ignore[union-attr]
    assert child.match(known).provider == "groq"  # type: ignore[union-attr]
    assert [type(p).__name__ for p in child.fallbacks()] == ["Claims", "AnyHostProvider"]


# -- normalisers ---------------------------------------------------------------------------


def test_reasoning_is_added_only_when_the_total_shows_it_was_left_out() -> None:
    inclusive = {
        "prompt_tokens": 10,
        "completion_tokens": 50,
        "total_tokens": 60,
        "completion_tokens_details": {"reasoning_tokens": 40},
    }
    exclusive = {**inclusive, "total_tokens": 100}
    assert normalise_openai_compatible_usage(inclusive).output_tokens == 50
    assert normalise_openai_compatible_usage(exclusive).output_tokens == 90
    responses_shape = {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 45,
        "output_tokens_details": {"reasoning_tokens": 30},
    }
    assert normalise_openai_compatible_usage(responses_shape).output_tokens == 35


def test_xai_without_a_total_still_adds_reasoning() -> None:
    usage = normalise_xai_usage(
        {
            "prompt_tokens": 5,
            "completion_tokens": 7,
            "completion_tokens_details": {"reasoning_tokens": 20},
        }
    )
    assert (usage.output_tokens, usage.reasoning_tokens) == (27, 20)
    included = normalise_xai_usage(
        {
            "prompt_tokens": 5,
            "completion_tokens": 27,
            "total_tokens": 32,
            "completion_tokens_details": {"reasoning_tokens": 20},
        }
    )
    assert included.output_tokens == 27  # if xAI ever includes them, nothing is counted twice


def test_deepseek_hits_and_misses_make_the_prompt() -> None:
    usage = normalise_deepseek_usage({"prompt_cache_hit_tokens": 64, "prompt_cache_miss_tokens": 8})
    assert (usage.input_tokens, usage.cached_input_tokens) == (72, 64)


def test_openrouter_byok_adds_the_upstream_cost() -> None:
    usage = normalise_openrouter_usage(
        {
            "prompt_tokens": 100,
            "completion_tokens": 10,
            "total_tokens": 110,
            "cost": 0.0000125,
            "is_byok": True,
            "cost_details": {"upstream_inference_cost": 0.00025},
        }
    )
    assert usage.reported_cost_usd == Decimal("0.0002625")
