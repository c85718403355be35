"""The tracker's cache API: options, stats, controls, and what is (not) stored."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import anthropic
import httpx2
import openai
import pytest

import tokenbudget
from tokenbudget import CacheStats, TokenTracker
from tokenbudget.cache import CacheEntry, CallCache, DiskBackend, MemoryBackend, StoredResponse
from tokenbudget.testing import FakeLLM, FakeReply

from ..support import GatedTracker
from .helpers import make_sdk

MESSAGES: Any = [{"role": "user", "content": "Capital of France?"}]


def openai_client(tracker: TokenTracker, fake: FakeLLM, key: str = "sk-one") -> openai.OpenAI:
    http = tracker.httpx_client(transport=fake)
    return openai.OpenAI(api_key=key, http_client=http, max_retries=0)


def ask(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=MESSAGES, **kwargs)


# -- options --------------------------------------------------------------------------


def test_no_cache_by_default() -> None:
    tracker = TokenTracker()
    assert tracker.cache is None
    assert tracker.cache_stats == CacheStats()
    assert tracker.cache_stats.hit_rate == 0.0
    tracker.clear_cache()  # nothing to clear, no error


def test_memory_options() -> None:
    tracker = TokenTracker(
        cache="memory",
        cache_max_entries=3,
        cache_ttl=timedelta(minutes=2),
        cache_ignore_fields=["user"],
    )
    cache = tracker.cache
    assert isinstance(cache, CallCache) and isinstance(cache.backend, MemoryBackend)
    assert cache.backend.max_entries == 3 and cache.ttl == 120.0


def test_disk_options(tmp_path: Any) -> None:
    tracker = TokenTracker(cache="disk", cache_dir=tmp_path, cache_ttl=10)
    cache = tracker.cache
    assert isinstance(cache, CallCache) and isinstance(cache.backend, DiskBackend)
    assert cache.backend.directory == tmp_path and cache.ttl == 10.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cache_ttl": 5}, ValueError, "cache_ttl not used here"),
        ({"cache": "memory", "cache_dir": "x"}, ValueError, "cache_dir"),
        ({"cache": "disk", "cache_max_entries": 5}, ValueError, "size_limit"),
        ({"cache": "redis"}, ValueError, "unknown cache 'redis'"),
        ({"cache": 42}, TypeError, "not int"),
        ({"cache": "memory", "cache_ttl": 0}, ValueError, "positive"),
        ({"cache": CallCache(MemoryBackend()), "cache_ttl": 5}, ValueError, "itself"),
        ({"cache": MemoryBackend(), "cache_max_entries": 5}, ValueError, "itself"),
    ],
)
def test_bad_options_say_what_to_do(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        TokenTracker(**kwargs)


class DictBackend:
    """A user's own backend: bytes in a dict, the way a Redis one would keep them."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> CacheEntry | None:
        found = self.data.get(key)
        return CacheEntry.from_bytes(found) if found is not None else None

    def set(self, key: str, entry: CacheEntry, ttl: float | None = None) -> None:
        self.data[key] = entry.to_bytes()

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def clear(self) -> None:
        self.data.clear()

    def __len__(self) -> int:
        return len(self.data)


def test_a_users_backend_and_ttl() -> None:
    backend = DictBackend()
    tracker = TokenTracker(cache=backend, cache_ttl=60, cache_ignore_fields=["user"])
    fake = FakeLLM(reply="Paris.")
    client = openai_client(tracker, fake)
    first = ask(client, user="alice").model_dump()
    assert ask(client, user="bob").model_dump() == first
    assert fake.calls == 1 and len(backend) == 1
    stored = CacheEntry.from_bytes(next(iter(backend.data.values())))
    assert stored.expires_at == pytest.approx(stored.created_at + 60)
    assert (stored.provider, stored.model) == ("openai", "gpt-4o")


class HookCache:
    """An object with the exchange's own hooks is used as it is."""

    def __init__(self) -> None:
        self.lookups = 0

    def lookup(self, exchange: Any) -> StoredResponse | None:
        self.lookups += 1
        return None

    def store(self, exchange: Any, response: StoredResponse) -> None:
        raise AssertionError("never asked: lookup set no key")


def test_a_hook_level_cache_is_used_as_is() -> None:
    hooks = HookCache()
    tracker = TokenTracker(cache=hooks)
    assert tracker.cache is hooks
    ask(openai_client(tracker, FakeLLM()))
    assert hooks.lookups == 1
    assert tracker.cache_stats == CacheStats()


# -- stats and clearing -------------------------------------------------------------------


def test_stats_and_clear_cache() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="Paris.")
    client = openai_client(tracker, fake)
    for _ in range(4):
        ask(client)
    stats = tracker.cache_stats
    assert (stats.hits, stats.misses, stats.entries, stats.hit_rate) == (3, 1, 1, 0.75)
    miss_cost = tracker.records[0].cost_usd
    assert miss_cost is not None
    assert stats.saved_cost_usd == tracker.usage.saved_cost_usd == 3 * miss_cost
    assert stats.saved_tokens == 3 * tracker.records[0].usage.total_tokens

    tracker.clear_cache()
    assert tracker.cache_stats.entries == 0 and tracker.cache_stats.hits == 3
    ask(client)
    assert fake.calls == 2


# -- controls -----------------------------------------------------------------------------


def test_module_level_controls_cover_every_tracker() -> None:
    one, two = TokenTracker(cache="memory"), TokenTracker(cache="memory")
    fake = FakeLLM(reply="Paris.")
    a, b = openai_client(one, fake), openai_client(two, fake)
    ask(a), ask(b)
    with tokenbudget.no_cache():
        ask(a), ask(b)
    assert fake.calls == 4
    with one.no_cache():
        ask(a), ask(b)
    assert fake.calls == 5, "only tracker one's call was bypassed"
    with tokenbudget.refresh_cache():
        ask(a), ask(b)
    assert fake.calls == 7


def test_the_innermost_control_wins() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="Paris.")
    client = openai_client(tracker, fake)
    ask(client)
    with tokenbudget.no_cache(), tracker.refresh_cache():
        ask(client)
    assert tracker.cache_stats.refreshed == 1 and tracker.cache_stats.bypassed == 0


async def test_controls_follow_asyncio_tasks() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="Paris.")
    client = openai.AsyncOpenAI(
        api_key="sk", http_client=tracker.async_httpx_client(transport=fake), max_retries=0
    )
    await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def bypassing() -> None:
        with tracker.no_cache():
            entered.set()
            await release.wait()
            await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    async def plain() -> None:
        await entered.wait()
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        release.set()

    await asyncio.gather(bypassing(), plain())
    stats = tracker.cache_stats
    assert (stats.hits, stats.bypassed, fake.calls) == (1, 1, 2)


# -- what is and is not cached ----------------------------------------------------------------


def test_only_safe_headers_are_replayed() -> None:
    tracker = TokenTracker(cache="memory")
    headers = {"set-cookie": "__cf_bm=abc", "x-ratelimit-remaining-requests": "5"}
    fake = FakeLLM([FakeReply(text="Paris.", headers=headers)])
    client = openai_client(tracker, fake)
    first = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    second = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert fake.calls == 1
    assert first.headers["set-cookie"] and "set-cookie" not in second.headers
    assert "x-ratelimit-remaining-requests" not in second.headers
    assert second.headers["x-request-id"] == first.headers["x-request-id"]
    assert second.request_id == first.request_id
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.parse().model_dump() == first.parse().model_dump()


def test_a_background_response_is_never_cached() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="Paris.")
    client = openai_client(tracker, fake)
    for _ in range(2):
        client.responses.create(model="gpt-4.1-mini", input="Capital of France?", background=True)
    assert fake.calls == 2
    assert tracker.cache_stats.stores == 0 and tracker.cache_stats.hits == 0
    client.responses.create(model="gpt-4.1-mini", input="Capital of France?")
    client.responses.create(model="gpt-4.1-mini", input="Capital of France?")
    assert fake.calls == 3 and tracker.cache_stats.hits == 1


def test_a_stream_that_asked_for_usage_gets_it_back() -> None:
    tracker = TokenTracker(cache="memory")
    client = openai_client(tracker, FakeLLM(reply="Paris is the capital."))
    options = {"include_usage": True}
    first = [c.model_dump() for c in ask(client, stream=True, stream_options=options)]
    second = [c.model_dump() for c in ask(client, stream=True, stream_options=options)]
    assert second == first and first[-1]["usage"] is not None
    plain = [c.model_dump() for c in ask(client, stream=True)]
    assert all(chunk["usage"] is None for chunk in plain), "the injected usage stays hidden"
    assert [c.model_dump() for c in ask(client, stream=True)] == plain


def test_trackers_that_alter_streams_differently_do_not_share_them() -> None:
    cache = CallCache(MemoryBackend())
    fake = FakeLLM(reply="Paris.")
    injecting = openai_client(TokenTracker(cache=cache), fake)
    plain = openai_client(TokenTracker(cache=cache, inject_stream_usage=False), fake)
    list(ask(injecting, stream=True))
    list(ask(plain, stream=True))
    assert fake.calls == 2
    list(ask(plain, stream=True))
    list(ask(injecting))
    assert fake.calls == 3, "JSON calls are not affected; streams are keyed per variant"


def test_a_request_rewritten_by_a_budget_is_not_stored() -> None:
    def clamp(exchange: Any) -> list[Any]:
        exchange.body_overrides["max_tokens"] = 3
        return []

    tracker = GatedTracker(clamp, cache="memory")
    fake = FakeLLM(reply="The capital of France is Paris.")
    client = openai_client(tracker, fake)
    ask(client)
    assert fake.last_request is not None and fake.last_request.body["max_tokens"] == 3
    assert tracker.cache_stats.entries == 0


def test_free_and_untracked_requests_are_not_cached() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM()
    client = anthropic.Anthropic(
        api_key="sk-ant", http_client=tracker.httpx_client(transport=fake), max_retries=0
    )
    for _ in range(2):
        client.messages.count_tokens(model="claude-sonnet-4-6", messages=MESSAGES)
    plain = tracker.httpx_client(transport=fake)
    for _ in range(2):
        plain.get("https://api.openai.com/v1/models")
    assert fake.calls == 4 and tracker.cache_stats == CacheStats()


def test_embeddings_are_cached() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM()
    client = openai_client(tracker, fake)
    first = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    second = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert second.model_dump() == first.model_dump() and fake.calls == 1


def sse(events: list[bytes], *, fail: bool = False) -> Iterator[bytes]:
    yield from events
    if fail:
        raise httpx2.ReadError("connection lost")


CHUNK = (
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",'
    b'"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
)


def test_a_stream_that_fails_midway_is_not_stored() -> None:
    calls: list[Any] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        stream = sse([CHUNK, CHUNK], fail=True)
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=stream)

    tracker = TokenTracker(cache="memory")
    client = openai.OpenAI(
        api_key="sk",
        http_client=tracker.httpx_client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )
    for _ in range(2):
        with pytest.raises(openai.APIConnectionError):
            list(ask(client, stream=True))
    assert len(calls) == 2 and tracker.cache_stats.entries == 0


def test_an_error_event_inside_a_200_stream_is_not_stored() -> None:
    """Anthropic reports overload mid-stream as an SSE ``error`` event."""
    start = (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1",'
        b'"type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],'
        b'"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1}}}\n\n'
    )
    error = (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"Overloaded"}}\n\n'
    )
    calls: list[Any] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        body = sse([start, error])
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    tracker = TokenTracker(cache="memory")
    client = anthropic.Anthropic(
        api_key="sk-ant",
        http_client=tracker.httpx_client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )
    for _ in range(2):
        with pytest.raises(anthropic.APIStatusError):
            list(
                client.messages.create(
                    model="claude-sonnet-4-6", max_tokens=10, messages=MESSAGES, stream=True
                )
            )
    assert len(calls) == 2 and tracker.cache_stats.entries == 0
    assert tracker.records[-1].error is not None


class BrokenBackend(MemoryBackend):
    def get(self, key: str) -> CacheEntry | None:
        raise OSError("disk full")


def test_a_failing_backend_never_breaks_the_call(caplog: pytest.LogCaptureFixture) -> None:
    tracker = TokenTracker(cache=BrokenBackend())
    fake = FakeLLM(reply="Paris.")
    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        assert ask(openai_client(tracker, fake)).choices[0].message.content == "Paris."
    assert fake.calls == 1


async def test_a_tracker_of_another_sdk_shares_nothing() -> None:
    """The same cache object under two SDKs: each request has its own key."""
    cache = CallCache(MemoryBackend())
    openai_sdk = make_sdk("openai", "httpx2", "sync", TokenTracker(cache=cache))
    anthropic_sdk = make_sdk("anthropic", "httpx2", "sync", TokenTracker(cache=cache))
    await openai_sdk.call()
    await anthropic_sdk.call()
    assert openai_sdk.fake.calls == anthropic_sdk.fake.calls == 1
    assert len(cache.backend) == 2
