"""The hit path: a request repeated byte for byte skips the canonical JSON; a memory
hit replays a stream cut into events once, when stored.

The keyer remembers the hash state after the parts up to the body, under the
other parts and the raw body's digest (never a credential). These tests check
that a repeat finds the same key as a first computation, that bodies equal as
JSON but not as bytes still share a key, and that credentials and vary headers
still part keys on the fast path; then the same through a real SDK client.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
from dataclasses import replace
from typing import Any

import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenbudget import TokenTracker
from tokenbudget.cache import (
    CacheEntry,
    CacheKeyer,
    MemoryBackend,
    StoredResponse,
)
from tokenbudget.providers import RequestView
from tokenbudget.testing import FakeLLM

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "user": "alice"}


def view(
    body: Any = BODY, *, auth: str = "Bearer sk-one", query: str = "", **headers: str
) -> RequestView:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RequestView(
        "POST",
        "api.openai.com",
        "/v1/chat/completions",
        query=query,
        headers={"authorization": auth, **headers},
        body=raw,
    )


def test_a_byte_identical_repeat_finds_the_key_of_a_first_computation() -> None:
    keyer = CacheKeyer(b"fast")
    first = keyer.key(view())
    assert len(keyer._bodies) == 1
    assert [keyer.key(view()) for _ in range(3)] == [first] * 3, "repeats take the memo"
    assert len(keyer._bodies) == 1
    assert CacheKeyer(b"fast").key(view()) == first, "a fresh keyer (no memo) agrees"


def test_bodies_equal_as_json_share_a_key_and_changed_ones_do_not() -> None:
    keyer = CacheKeyer(b"fast", ignore_fields=["user"])
    spellings = [
        json.dumps(BODY).encode(),
        json.dumps(BODY, indent=2).encode(),
        json.dumps(dict(reversed(list(BODY.items())))).encode(),
        json.dumps({**BODY, "user": "bob"}).encode(),  # an ignored field
    ]
    keys = {keyer.key(view(raw)) for raw in spellings * 2}
    assert len(keys) == 1 and len(keyer._bodies) == len(spellings)
    changed = json.dumps({**BODY, "model": "gpt-4o-mini"}).encode()
    assert keyer.key(view(changed)) not in keys
    assert keyer.key(view(changed)) not in keys, "and its repeat misses too"


def test_credentials_part_keys_on_the_fast_path_and_never_enter_its_memo() -> None:
    keyer = CacheKeyer(b"fast")
    one, two = (keyer.key(view(auth=f"Bearer sk-SECRET-{n}")) for n in (1, 2))
    assert one != two
    assert keyer.key(view(auth="Bearer sk-SECRET-1")) == one
    assert keyer.key(view(auth="Bearer sk-SECRET-2")) == two
    by_query = {keyer.key(view(query=f"alt=sse&key=AIza-SECRET-{n}")) for n in (1, 2, 1)}
    assert len(by_query) == 2
    remembered = repr(list(keyer._bodies))
    assert "SECRET" not in remembered and len(keyer._bodies) == 2
    shared = CacheKeyer(b"fast", per_account=False)
    assert shared.key(view(auth="Bearer sk-a")) == shared.key(view(auth="Bearer sk-b"))


def test_vary_headers_part_keys_on_the_fast_path() -> None:
    keyer = CacheKeyer(b"fast")
    old, new = (keyer.key(view(**{"openai-beta": beta})) for beta in ("v1", "v2"))
    assert old != new and keyer.key(view(**{"openai-beta": "v1"})) == old


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_the_memo_is_never_pickled_or_copied(protocol: int) -> None:
    keyer = CacheKeyer(b"fast")
    expected = keyer.key(view())
    restored = pickle.loads(pickle.dumps(keyer, protocol))
    assert len(restored._bodies) == 0 and restored.key(view()) == expected
    assert len(copy.deepcopy(keyer)._bodies) == 0
    assert "states" in repr(keyer._bodies) and "gpt-4o" not in repr(keyer._bodies)


def test_the_memo_is_bounded() -> None:
    keyer = CacheKeyer(b"fast")
    bodies = [json.dumps({**BODY, "user": str(n)}).encode() for n in range(1500)]
    keys = [keyer.key(view(raw)) for raw in bodies]
    assert len(keyer._bodies) <= 1024
    assert [keyer.key(view(raw)) for raw in bodies] == keys
    assert len(set(keys)) == 1500


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


@settings(deadline=None)  # no timing: a loaded machine must not fail it
@given(document=st.dictionaries(st.text(max_size=6), JSON, max_size=5), indent=st.integers(0, 3))
def test_any_spelling_of_a_body_finds_the_key_of_its_first_computation(
    document: dict[str, Any], indent: int
) -> None:
    keyer = CacheKeyer(b"fast")
    compact = json.dumps(document).encode()
    spaced = json.dumps(document, indent=indent, sort_keys=True, ensure_ascii=False).encode()
    first = CacheKeyer(b"fast").key(view(compact))
    assert [keyer.key(view(raw)) for raw in (compact, spaced, compact, spaced)] == [first] * 4


# -- through a real SDK client ---------------------------------------------------------


def test_an_sdk_repeat_is_a_hit_recorded_as_before() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="Paris.")
    http = tracker.httpx_client(transport=fake)
    client = openai.OpenAI(api_key="sk-one", http_client=http, max_retries=0)
    answers = [
        client.chat.completions.create(model="gpt-4o", messages=BODY["messages"]).model_dump()
        for _ in range(3)
    ]
    assert answers[1] == answers[2] == answers[0] and fake.calls == 1
    miss, *hits = tracker.records
    assert not miss.cached and miss.cost_usd and miss.saved_cost_usd is None
    for hit in hits:
        assert hit.cached and hit.cost_usd == 0 and hit.saved_cost_usd == miss.cost_usd
        assert hit.usage == miss.usage and hit.model == miss.model
    stats = tracker.cache_stats
    assert (stats.hits, stats.misses, stats.stores) == (2, 1, 1)
    assert stats.saved_tokens == 2 * miss.usage.total_tokens
    assert stats.saved_cost_usd == 2 * miss.cost_usd


def test_byte_different_equal_bodies_hit_and_a_changed_body_misses() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="Paris.")
    client = tracker.httpx_client(transport=fake)
    url = "https://api.openai.com/v1/chat/completions"
    headers = {"authorization": "Bearer sk-one", "content-type": "application/json"}

    def post(body: bytes) -> httpx2.Response:
        return client.post(url, content=body, headers=headers)

    first = post(json.dumps(BODY).encode())
    assert post(json.dumps(BODY, indent=2, sort_keys=True).encode()).content == first.content
    assert fake.calls == 1 and tracker.records[-1].cached
    post(json.dumps({**BODY, "model": "gpt-4o-mini"}).encode())
    assert fake.calls == 2 and not tracker.records[-1].cached
    assert post(json.dumps(BODY).encode()).content == first.content
    assert fake.calls == 2 and tracker.records[-1].cached
    assert (tracker.cache_stats.hits, tracker.cache_stats.misses) == (2, 2)


# -- stored parts: a memory hit replays a stream cut once, when stored ------------------


def test_a_memory_cache_keeps_a_stream_cut_into_its_events() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="one two three")
    http = tracker.httpx_client(transport=fake)
    client = openai.OpenAI(api_key="sk-one", http_client=http, max_retries=0)

    def streamed() -> list[Any]:
        made = client.chat.completions.create(
            model="gpt-4o", messages=BODY["messages"], stream=True
        )
        return [chunk.model_dump() for chunk in made]

    first = streamed()
    assert tracker.cache is not None
    backend = tracker.cache.backend
    assert isinstance(backend, MemoryBackend)
    (stored,) = backend._entries.values()
    ready = stored.response
    assert ready.stream and ready.events is not None and len(ready.events) > 2
    assert b"".join(ready.events) == ready.body
    assert ready.replay is not None and ready.replay.raw is ready.events
    assert stored.size > 2 * len(ready.body), "the cut copy counts in the memory bound"
    assert streamed() == streamed() == first and fake.calls == 1
    miss, *hits = tracker.records
    assert all(hit.cached and hit.usage == miss.usage for hit in hits)
    assert all(hit.saved_cost_usd == miss.cost_usd for hit in hits)


def test_a_ready_response_is_a_stored_response_everywhere() -> None:
    headers = (("content-type", "text/event-stream"),)
    plain = StoredResponse(200, headers, b"data: 1\n\ndata: 2\n\n", stream=True)
    ready = replace(plain, events=(b"data: 1\n\n", b"data: 2\n\n"))
    assert ready == plain, "the parts kept for replay are no part of the answer"
    entry = CacheEntry(ready, 0.0)
    assert CacheEntry.from_bytes(entry.to_bytes()).response == plain, "stored as any answer"
    assert CacheEntry.from_bytes(entry.to_bytes()).response.events is None


# -- whole keys by the request as it came (httpx headers) ------------------------------


def httpx_view(
    body: bytes, headers: list[tuple[str, str]], query: str = "", method: str = "POST"
) -> RequestView:
    return RequestView(
        method,
        "api.openai.com",
        "/v1/chat/completions",
        query=query,
        headers=httpx2.Headers(headers),
        body=body,
    )


header_names = st.sampled_from(
    [
        "authorization",
        "x-api-key",
        "openai-organization",
        "anthropic-version",
        "x-tenant",
        "user-agent",
        "cookie",
        "x-stainless-retry-count",
        "X-Api-Key",
        "Authorization",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    headers=st.lists(st.tuples(header_names, st.text("ab1 =;", max_size=6)), max_size=6),
    body=st.sampled_from([b"{}", json.dumps(BODY).encode(), b'{"a": 1}', b"not json"]),
    query=st.sampled_from(["", "key=k1", "api-version=1&sig=s", "b=2&a=1"]),
    variant=st.sampled_from(["", "usage"]),
    per_account=st.booleans(),
)
def test_a_remembered_key_is_the_key_computed_in_full(
    headers: list[tuple[str, str]], body: bytes, query: str, variant: str, per_account: bool
) -> None:
    """The whole-key memo (httpx headers) and the general path agree, and so do headers
    without a raw list (mapping headers take the general path every time)."""
    warm = CacheKeyer(b"fast", vary_headers=["x-tenant"], per_account=per_account)
    request = httpx_view(body, headers, query)
    first = warm.key(request, variant)
    again = warm.key(httpx_view(body, headers, query), variant)
    fresh = CacheKeyer(b"fast", vary_headers=["x-tenant"], per_account=per_account)
    assert first == again == fresh._key(request, variant, hashlib.sha256(body).digest())
    assert len(warm._keys) == 1  # httpx headers, even none, have a raw list: remembered
    if len({name.lower() for name, _ in headers}) == len(headers):  # (no repeated names)
        as_mapping = RequestView(
            "POST",
            "api.openai.com",
            "/v1/chat/completions",
            query=query,
            headers=dict(headers),
            body=body,
        )
        assert fresh.key(as_mapping, variant) == first and len(fresh._keys) == 0


def test_the_key_memo_keeps_credentials_in_memory_only() -> None:
    keyer = CacheKeyer(b"fast")
    request = httpx_view(b"{}", [("authorization", "Bearer sk-SECRET")])
    expected = keyer.key(request)
    assert len(keyer._keys) == 1
    shown = [repr(keyer), repr(keyer._keys), str(keyer._keys)]
    assert not any("SECRET" in text for text in shown)
    restored = pickle.loads(pickle.dumps(keyer))
    assert len(restored._keys) == 0 and restored.key(request) == expected
    assert len(copy.deepcopy(keyer)._keys) == 0
    other = httpx_view(b"{}", [("authorization", "Bearer sk-OTHER")])
    assert keyer.key(other) != expected and len(keyer._keys) == 2


def test_the_key_memo_is_bounded() -> None:
    keyer = CacheKeyer(b"fast")
    requests = [httpx_view(b"{}", [("x-n", str(n))]) for n in range(1500)]
    keys = [keyer.key(request) for request in requests]
    assert len(keyer._keys) <= 1024 and len(set(keys)) == 1
