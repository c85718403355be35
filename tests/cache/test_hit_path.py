"""A memory hit's short path, each step against the general path it bypasses.

- A hit leads no flight, so it releases none: only the calls that went out do, and
  the cache's flights are empty after hits and misses alike.
- A hit's head is built as the HTTP library's headers once per answer and library,
  then copied per hit: a caller that changes its response's headers changes no
  other hit's, and each library gets its own headers class.
- A replayed stream lets go of its exchange once the call is recorded: closing or
  collecting it afterwards records nothing again.
- The cache control in force costs nothing when no ``no_cache()`` or
  ``refresh_cache()`` block is open, and is found as before inside them.
- The whole-key memo keys a request by its host and port apart: it finds the key a
  first computation finds, for any host and port.
"""

from __future__ import annotations

import gc
import hashlib

import httpx
import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenbudget import TokenTracker
from tokenbudget.cache import CacheKeyer, CallCache, MemoryBackend, no_cache, refresh_cache
from tokenbudget.cache._control import cache_mode
from tokenbudget.providers import RequestView
from tokenbudget.testing import FakeLLM

from ..support import record_calls
from .helpers import CASES, make_sdk
from .test_kept_reading import assert_same_record, kept_readings, post, read, read_as_before

# -- flights -----------------------------------------------------------------------


@pytest.fixture
def releases(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One item per ``CallCache.release``: whether the released call was a hit."""
    return record_calls(monkeypatch, CallCache, "release", lambda _, exchange: exchange.cached)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("sdk_name", "family"), CASES)
async def test_only_calls_that_went_out_release_and_no_flight_is_left(
    sdk_name: str, family: str, mode: str, stream: bool, releases: list[bool]
) -> None:
    tracker = TokenTracker(cache="memory")
    sdk = make_sdk(sdk_name, family, mode, tracker)
    answers = [await sdk.call(stream=stream) for _ in range(3)]
    assert answers[0] == answers[1] == answers[2] and sdk.fake.calls == 1
    assert releases == [False], "the miss releases its flight; the hits have none"
    assert isinstance(tracker.cache, CallCache)
    flights = tracker.cache._flights
    assert flights._flights == {} and flights._keys == {} and flights.waiting == 0
    stats = tracker.cache_stats
    assert (stats.hits, stats.misses, stats.stores, stats.waiting) == (2, 1, 1, 0)


def test_a_hit_after_a_refused_lookup_still_releases(releases: list[bool]) -> None:
    """A lookup that failed is no hit: its call goes out, and is released as ever."""
    tracker = TokenTracker(cache="memory")
    client = tracker.httpx_client(transport=FakeLLM(reply="one two", family="httpx2"))
    with client:
        read(client, post(client, False))
        assert tracker.cache is not None
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(CallCache, "lookup", lambda self, exchange: 1 / 0)
            read(client, post(client, False))
        read(client, post(client, False))
    assert [record.cached for record in tracker.records] == [False, False, True]
    assert releases == [False, False]


# -- the head --------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_hit_head_is_the_head_built_per_hit_and_changing_it_changes_no_other(
    stream: bool,
) -> None:
    tracker = TokenTracker(cache="memory")
    client = tracker.httpx_client(transport=FakeLLM(reply="one two", family="httpx2"))
    with client:
        read(client, post(client, stream))
        heads = []
        for round in range(3):
            if round == 2:
                read_as_before(tracker)  # the general path builds its head per hit
            response = client.send(post(client, stream))
            heads.append(response.headers.multi_items())
            response.headers["x-mine"] = "changed"
            del response.headers["content-type"]
            response.close()
    assert heads[0] == heads[1] == heads[2]
    kind = dict(heads[0])["content-type"]
    assert kind.startswith("text/event-stream" if stream else "application/json")


def test_each_library_gets_its_own_headers_from_one_kept_answer() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="one two", family="httpx2")
    clients = [
        tracker.httpx_client(transport=fake),
        tracker.httpx_client(transport=fake.with_family("httpx")),
    ]
    body = b'{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}'
    url = "https://api.openai.com/v1/chat/completions"
    headers = {"authorization": "Bearer sk-one", "content-type": "application/json"}
    bodies = []
    for client in clients + clients:
        response = client.post(url, content=body, headers=headers)
        module = httpx2 if isinstance(client, httpx2.Client) else httpx
        assert type(response.headers) is module.Headers
        bodies.append(response.content)
    for client in clients:
        client.close()
    assert len(set(bodies)) == 1 and fake.calls == 1
    (replay,) = kept_readings(tracker)
    assert set(replay.forms) == {httpx, httpx2}
    assert replay.forms[httpx].raw == replay.forms[httpx2].raw == list(replay.head)


# -- the replayed stream, once recorded ------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_read_hit_is_recorded_once_however_its_stream_ends_then(stream: bool) -> None:
    tracker = TokenTracker(cache="memory")
    client = tracker.httpx_client(transport=FakeLLM(reply="one two three", family="httpx2"))
    with client:
        read(client, post(client, stream))
        response = client.send(post(client, stream), stream=True)
        body = b"".join(response.iter_raw())
        assert len(tracker.records) == 2
        kept = tracker.records[-1]
        inner = response.stream._stream  # (httpx2's timing wrapper around the replay)
        assert inner._exchange is None, "recorded: the stream holds the exchange no more"
        assert list(inner) == [], "a second reading goes on where the first stopped"
        response.close()
        inner.close()
        del response, inner
        gc.collect()
        read_as_before(tracker)
        again = read(client, post(client, stream))
    assert body == again
    assert len(tracker.records) == 3 and tracker.records[1] is kept
    assert_same_record(kept, tracker.records[2])


async def test_an_async_read_hit_lets_go_of_its_exchange() -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="one two three", family="httpx2")
    async with tracker.async_httpx_client(transport=fake) as client:
        for _ in range(2):
            response = await client.send(post(client, True), stream=True)  # type: ignore[arg-type]
            body = b"".join([piece async for piece in response.aiter_raw()])
            await response.aclose()
        assert response.stream._stream._exchange is None
    assert body and len(tracker.records) == 2 and tracker.records[1].cached


# -- the cache control -----------------------------------------------------------------


def test_the_control_in_force_with_no_block_and_inside_blocks() -> None:
    mine, other = object(), object()
    assert cache_mode(mine) == "use"
    with no_cache():
        assert cache_mode(mine) == "bypass"
        with refresh_cache(tracker=mine):
            assert cache_mode(mine) == "refresh"
            assert cache_mode(other) == "bypass"
        assert cache_mode(mine) == "bypass"
    with refresh_cache(tracker=other):
        assert cache_mode(mine) == "use"
        assert cache_mode(other) == "refresh"
    assert cache_mode(mine) == "use"


# -- the whole-key memo ----------------------------------------------------------------

_HOSTS = st.sampled_from(["api.openai.com", "localhost", "127.0.0.1", "gw.example", "a"])
_PORTS = st.sampled_from([None, 80, 443, 8080, 1])


def _view(host: str, port: int | None, body: bytes) -> RequestView:
    headers = httpx2.Headers({"authorization": "Bearer sk-one", "x": "y"})
    return RequestView("POST", host, "/v1/chat/completions", port, "", headers, body)


@settings(max_examples=60, deadline=None)
@given(
    first=st.tuples(_HOSTS, _PORTS),
    second=st.tuples(_HOSTS, _PORTS),
    body=st.sampled_from([b'{"a":1}', b"{}", b"raw"]),
)
def test_the_whole_key_memo_finds_the_key_of_a_first_computation(
    first: tuple[str, int | None], second: tuple[str, int | None], body: bytes
) -> None:
    keyer, fresh = CacheKeyer(b"s"), CacheKeyer(b"s")
    digest = hashlib.sha256(body).digest()
    for host, port in (first, second, first, second):
        found = keyer.key(_view(host, port, body))
        assert found == fresh._key(_view(host, port, body), "", digest)
    same = (first[0], first[1] or None) == (second[0], second[1] or None)
    assert (keyer.key(_view(*first, body)) == keyer.key(_view(*second, body))) == same


def test_a_hit_through_a_cache_of_its_own_backend_still_counts(releases: list[bool]) -> None:
    cache = CallCache(MemoryBackend())
    tracker = TokenTracker(cache=cache)
    client = tracker.httpx_client(transport=FakeLLM(reply="one", family="httpx2"))
    with client:
        for _ in range(3):
            read(client, post(client, False))
    stats = tracker.cache_stats
    assert (stats.hits, stats.misses) == (2, 1) and stats.saved_tokens > 0
    assert releases == [False]


_LIMIT = 4096  # (``_key._EXACT_BODY_SIZE``: bodies kept whole in the memo up to this size)


@settings(max_examples=40, deadline=None)
@given(
    size=st.sampled_from([0, 1, 32, _LIMIT - 1, _LIMIT, _LIMIT + 1, 3 * _LIMIT]),
    flip=st.integers(0, 3 * _LIMIT),
    fill=st.binary(min_size=1, max_size=1),
)
def test_short_bodies_stand_for_themselves_and_long_ones_for_their_digest(
    size: int, flip: int, fill: bytes
) -> None:
    """Short or long, a body finds the key of a first computation, and a body that
    differs in one byte another one."""
    keyer, fresh = CacheKeyer(b"s"), CacheKeyer(b"s")
    body = fill * size
    at = flip % size if size else 0
    changed = body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :] if size else body
    for one in (body, changed, body, changed) if size else (body, body):
        found = keyer.key(_view("a", None, one))
        assert found == fresh._key(_view("a", None, one), "", hashlib.sha256(one).digest())
    if size:
        assert keyer.key(_view("a", None, body)) != keyer.key(_view("a", None, changed))


def test_a_short_body_equal_to_a_long_one_s_digest_is_not_taken_for_it() -> None:
    keyer = CacheKeyer(b"s")
    long = b"x" * (2 * _LIMIT)
    short = hashlib.sha256(long).digest()
    first, second = keyer.key(_view("a", None, long)), keyer.key(_view("a", None, short))
    assert first != second
    assert keyer.key(_view("a", None, long)) == first
    assert keyer.key(_view("a", None, short)) == second
    assert len(keyer._keys) == 2
