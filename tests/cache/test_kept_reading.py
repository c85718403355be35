"""A memory hit replayed from the reading kept when its answer was stored (``_core._replay``).

Each hit is checked against the general path it bypasses: the same hit, its kept
reading taken away, so that it is read again as every hit was before. The caller
gets the same bytes and the records are equal, field by field (but the clock's).
"""

from __future__ import annotations

import gc
import json
from dataclasses import fields, replace
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenbudget import CallRecord, TokenTracker
from tokenbudget._core._observer import ResponseObserver
from tokenbudget.cache import CallCache, DiskBackend, MemoryBackend
from tokenbudget.testing import FakeLLM, FakeReply

from ..support import record_calls
from .helpers import CASES, make_sdk

_CLOCK = ("timestamp", "latency_ms", "first_chunk_ms")


def assert_same_record(kept: CallRecord, read: CallRecord) -> None:
    """Equal in every field; the clock's only in whether they are set."""
    for name in (f.name for f in fields(CallRecord)):
        if name in _CLOCK:
            assert (getattr(kept, name) is None) == (getattr(read, name) is None), name
        else:
            assert getattr(kept, name) == getattr(read, name), name


def memory(tracker: TokenTracker) -> MemoryBackend:
    assert tracker.cache is not None
    backend = tracker.cache.backend
    assert isinstance(backend, MemoryBackend)
    return backend


def kept_readings(tracker: TokenTracker) -> list[Any]:
    return [entry.response.replay for entry in memory(tracker)._entries.values()]


def read_as_before(tracker: TokenTracker) -> None:
    """Take every kept reading away: hits then read the stored body, as before."""
    backend = memory(tracker)
    for key, entry in list(backend._entries.items()):
        backend.set(key, replace(entry, response=replace(entry.response, replay=None)))


@pytest.fixture
def readings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item per response head an observer read (none for a hit from its kept reading)."""
    return record_calls(
        monkeypatch, ResponseObserver, "start_response", lambda _, status, h: status
    )


# -- through the SDKs ------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("sdk_name", "family"), CASES)
async def test_a_hit_from_its_kept_reading_is_recorded_as_a_reading_would_record_it(
    sdk_name: str, family: str, mode: str, stream: bool, readings: list[int]
) -> None:
    tracker = TokenTracker(cache="memory")
    sdk = make_sdk(sdk_name, family, mode, tracker)
    first = await sdk.call(stream=stream)
    assert all(kept is not None for kept in kept_readings(tracker))

    readings.clear()
    kept = await sdk.call(stream=stream)
    assert readings == [], "a hit from its kept reading reads nothing"
    read_as_before(tracker)
    again = await sdk.call(stream=stream)
    assert readings, "the general path reads the stored body"

    assert kept == again == first and sdk.fake.calls == 1
    miss, from_kept, from_body = tracker.records
    assert from_kept.cached and from_kept.cost_usd == 0
    assert from_kept.saved_cost_usd == miss.cost_usd and from_kept.usage == miss.usage
    assert_same_record(from_kept, from_body)


@pytest.mark.parametrize(("sdk_name", "family"), CASES)
async def test_an_abandoned_hit_is_recorded_as_before(
    sdk_name: str, family: str, mode: str
) -> None:
    tracker = TokenTracker(cache="memory")
    sdk = make_sdk(sdk_name, family, mode, tracker)
    await sdk.call(stream=True)
    await sdk.abandon()
    read_as_before(tracker)
    await sdk.abandon()
    assert sdk.fake.calls == 1
    _, from_kept, from_body = tracker.records
    assert from_kept.cached and from_body.cached
    assert_same_record(from_kept, from_body)


# -- any answer, cut anywhere ------------------------------------------------------------

_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}

replies = st.builds(
    FakeReply,
    text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    input_tokens=st.none() | st.integers(0, 10**6),
    output_tokens=st.none() | st.integers(0, 10**6),
    reasoning_tokens=st.integers(0, 100),
    cached_tokens=st.integers(0, 50),
    model=st.sampled_from([None, "gpt-4o-2024-08-06", "gpt-4o-mini"]),
)


def post(
    client: httpx2.Client, stream: bool, options: dict[str, Any] | None = None
) -> httpx2.Request:
    body: dict[str, Any] = {**_BODY, "stream": stream}
    if options is not None:
        body["stream_options"] = options
    return client.build_request(
        "POST",
        "https://api.openai.com/v1/chat/completions",
        content=json.dumps(body).encode(),
        headers={"authorization": "Bearer sk-one", "content-type": "application/json"},
    )


def read(client: httpx2.Client, request: httpx2.Request, stop: int | None = None) -> bytes:
    """The body the caller gets, all of it or its first ``stop`` pieces (then closed)."""
    response = client.send(request, stream=True)
    pieces: list[bytes] = []
    try:
        for piece in response.iter_raw():
            if stop is not None and len(pieces) == stop:
                break
            pieces.append(piece)
    finally:
        response.close()
    return b"".join(pieces)


def hits_both_ways(
    reply: FakeReply, stream: bool, stop: int | None = None, options: Any = None
) -> tuple[bytes, bytes, CallRecord, CallRecord]:
    """A hit from its kept reading and the same hit read as before: bodies and records."""
    tracker = TokenTracker(cache="memory")
    client = tracker.httpx_client(transport=FakeLLM(reply=reply, family="httpx2"))
    with client:
        read(client, post(client, stream, options))
        assert all(kept is not None for kept in kept_readings(tracker))
        kept = read(client, post(client, stream, options), stop)
        read_as_before(tracker)
        again = read(client, post(client, stream, options), stop)
    _, from_kept, from_body = tracker.records
    return kept, again, from_kept, from_body


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reply=replies, stream=st.booleans())
def test_any_answer_replays_and_records_alike(reply: FakeReply, stream: bool) -> None:
    kept, again, from_kept, from_body = hits_both_ways(reply, stream)
    assert kept == again
    assert from_kept.cached and not from_kept.estimated
    assert_same_record(from_kept, from_body)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reply=replies,
    stop=st.integers(0, 12),
    options=st.sampled_from([None, {"include_usage": True}, {"include_usage": False}]),
)
def test_a_hit_closed_after_any_piece_records_alike(
    reply: FakeReply, stop: int, options: Any
) -> None:
    """Closed early, a hit is read as far as its caller got (and on for a usage report)."""
    kept, again, from_kept, from_body = hits_both_ways(reply, True, stop, options)
    assert kept == again
    assert_same_record(from_kept, from_body)


# -- the usage chunk the tracker asked for ------------------------------------------


def chunks(body: bytes) -> list[Any]:
    lines = body.decode().split("\n")
    return [json.loads(line[6:]) for line in lines if line.startswith("data: {")]


@pytest.mark.parametrize("ignore", [(), ("stream_options",), ("user",)])
def test_a_hit_shows_the_usage_chunk_only_to_a_caller_that_asked_for_it(
    ignore: tuple[str, ...], readings: list[int]
) -> None:
    """With ``ignore_fields`` possibly leaving out what decides it, callers that differ
    there share answers: a hit's provider decides again, and a hit whose request
    decides otherwise than the stored one is read as before, hiding what it must."""
    cache = CallCache(MemoryBackend(), ignore_fields=ignore)
    tracker = TokenTracker(cache=cache)
    client = tracker.httpx_client(transport=FakeLLM(reply="one two", family="httpx2"))
    shared = ignore == ("stream_options",)
    read_again = []
    with client:
        for options in (None, {"include_usage": True}, None, {"include_usage": True}):
            readings.clear()
            body = read(client, post(client, True, options))
            read_again.append(bool(readings))
            with_usage = [chunk for chunk in chunks(body) if chunk.get("usage")]
            assert len(with_usage) == (1 if options else 0)
            assert all("usage" not in chunk for chunk in chunks(body) if not options)
    kept = kept_readings(tracker)
    assert all(one is not None and one.recheck == bool(ignore) for one in kept)
    records = tracker.records
    cached = [False, True, True, True] if shared else [False, False, True, True]
    assert [record.cached for record in records] == cached
    # Read: the misses; with a shared answer, the hits whose request decides otherwise.
    assert read_again == ([True, True, False, True] if shared else [True, True, False, False])
    assert all(record.usage == records[0].usage for record in records)


# -- answers kept elsewhere: read as before --------------------------------------------


def test_a_disk_hit_records_what_a_memory_hit_records(tmp_path: Any) -> None:
    """A disk cache keeps bytes in the format of earlier releases: its hits read them."""
    trackers = [
        TokenTracker(cache="memory"),
        TokenTracker(cache=CallCache(DiskBackend(tmp_path))),
    ]
    records = []
    for tracker in trackers:
        client = tracker.httpx_client(transport=FakeLLM(reply="one two", family="httpx2"))
        with client:
            for _ in range(2):
                read(client, post(client, True))
        records.append(tracker.records[-1])
    assert_same_record(*records)


# -- however a hit's response ends ----------------------------------------------------


def hit_ended_by(end: Any, stream: bool) -> tuple[CallRecord, CallRecord]:
    """A kept hit and the same hit read as before, each response ended by ``end``."""
    tracker = TokenTracker(cache="memory")
    client = tracker.httpx_client(transport=FakeLLM(reply="one two three", family="httpx2"))
    with client:
        read(client, post(client, stream))
        end(client.send(post(client, stream), stream=True))
        read_as_before(tracker)
        end(client.send(post(client, stream), stream=True))
    gc.collect()
    _, from_kept, from_body = tracker.records
    return from_kept, from_body


def closed_unread(response: httpx2.Response) -> None:
    response.close()


def dropped_unread(response: httpx2.Response) -> None:
    del response  # collected unclosed: recorded by the reaper


def dropped_after_one(response: httpx2.Response) -> None:
    next(response.iter_raw())
    del response


@pytest.mark.parametrize("end", [closed_unread, dropped_unread, dropped_after_one])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_hit_ended_early_is_recorded_as_before(end: Any, stream: bool) -> None:
    from_kept, from_body = hit_ended_by(end, stream)
    assert from_kept.cached and from_body.cached
    assert_same_record(from_kept, from_body)


@pytest.mark.parametrize("stop", [None, 0, 1, 3])
async def test_an_async_hit_records_as_before(stop: int | None) -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="one two three", family="httpx2")
    bodies = []
    async with tracker.async_httpx_client(transport=fake) as client:
        for round in range(3):
            if round == 2:
                read_as_before(tracker)
            request = post(client, True)  # type: ignore[arg-type]
            response = await client.send(request, stream=True)
            pieces = []
            async for piece in response.aiter_raw():
                if stop is not None and round and len(pieces) == stop:
                    break
                pieces.append(piece)
            await response.aclose()
            bodies.append(b"".join(pieces))
    assert bodies[1] == bodies[2] and fake.calls == 1
    _, from_kept, from_body = tracker.records
    assert_same_record(from_kept, from_body)
