"""The direct entry of a stream's usual chunk reads, records and passes on what the
general path does.

A chunk that is exactly one ``data:`` line and its blank line, arriving while the
SSE decoder is between events, is read as bytes: no event object, no decoding
(``ResponseObserver.feed``, ``OpenAIReader.on_data``, ``hide_usage_data``). Here
the same OpenAI chat streams, cut anywhere or event by event, go through a real
openai SDK client twice, once with the direct entry and once with it shut off
(the decoder then never says it is between events): the application's chunks,
the caller's bytes and the record must be the same, and the same as an untracked
client's chunks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker
from tokenbudget._core import SSEDecoder

from ..support import StubBook, mock_transport, module

pytest.importorskip("hypothesis", reason="the property tests need hypothesis (dev extra)")

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MESSAGES = [{"role": "user", "content": "Hi"}]
MODEL = "gpt-4o-mini-2024-07-18"


def chat_stream(pieces: list[str], *, usage: bool, spaced: bool, ending: bytes) -> bytes:
    """An OpenAI chat stream of ``pieces``; with ``usage``, as include_usage makes it."""
    separators = (", ", ": ") if spaced else (",", ":")
    events = []
    for index, piece in enumerate([*pieces, None]):
        chunk: dict[str, Any] = {"id": "c-1", "object": "chat.completion.chunk", "model": MODEL}
        delta = {"content": piece} if piece is not None else {}
        finish = "stop" if piece is None else None
        chunk["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
        if usage:
            chunk["usage"] = None
        if index == 0:
            chunk["choices"][0]["delta"]["role"] = "assistant"
        events.append(json.dumps(chunk, separators=separators, ensure_ascii=False).encode())
    return stream_of(events, usage, len(pieces), separators, ending)


def stream_of(
    events: list[bytes], usage: bool, completion_tokens: int, separators: Any, ending: bytes
) -> bytes:
    """A chat stream of the content ``events`` (their data), then the usage report that
    include_usage makes when ``usage``, then ``[DONE]``, each event ending in ``ending``."""
    if usage:
        report = {
            "id": "c-1",
            "object": "chat.completion.chunk",
            "model": MODEL,
            "choices": [],
            "usage": {
                "prompt_tokens": 8,
                "completion_tokens": completion_tokens,
                "total_tokens": 99,
            },
        }
        events = [*events, json.dumps(report, separators=separators).encode()]
    return b"".join(b"data: " + event + ending + ending for event in [*events, b"[DONE]"])


def event_chunks(body: bytes, ending: bytes) -> list[bytes]:
    """``body`` cut after each event, as OpenAI sends it."""
    blank = ending * 2
    return [part + blank for part in body.split(blank) if part]


class Host:
    """Answers every call with ``chunks`` of an event stream (usage only when asked)."""

    def __init__(self, family: str, with_usage: list[bytes], without: list[bytes]) -> None:
        self.family = family
        self.with_usage = with_usage
        self.without = without

    def __call__(self, request: Any) -> Any:
        options = json.loads(request.content).get("stream_options") or {}
        chunks = self.with_usage if options.get("include_usage") else self.without
        mod = module(self.family)

        class Stream(mod.SyncByteStream):  # type: ignore[misc, name-defined]
            def __iter__(self) -> Iterator[bytes]:
                yield from chunks

        return mod.Response(200, headers={"content-type": "text/event-stream"}, stream=Stream())


def read(family: str, host: Host, *, tracked: bool, **options: Any) -> tuple[list[Any], Any]:
    """The chunks the application gets and, tracked, the call's record."""
    transport = mock_transport(family, host)
    tracker = TokenTracker(prices=StubBook())
    http = (
        tracker.httpx_client(family=family, transport=transport)
        if tracked
        else module(family).Client(transport=transport)
    )
    client = openai.OpenAI(api_key="sk-test", http_client=http, max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, **options
    )
    chunks: list[Any] = []
    try:
        chunks.extend(chunk.model_dump(exclude_unset=True) for chunk in stream)
    except UnicodeDecodeError:  # the SDK's own reading of invalid UTF-8
        chunks.append("UnicodeDecodeError")
    return chunks, (tracker.records[0] if tracked else None)


def facts(record: Any) -> tuple[Any, ...]:
    return (
        record.model,
        record.usage,
        record.cost_usd,
        record.succeeded,
        record.error,
        record.response_id,
    )


def cut(chunks: list[bytes], cuts: list[int]) -> list[bytes]:
    body = b"".join(chunks)
    points = sorted({0, len(body), *cuts})
    return [body[a:b] for a, b in itertools.pairwise(points) if b > a]


#: Text with non-ASCII, quotes and the keys the reader looks for inside the content.
texts = st.lists(
    st.sampled_from([*list('ab é€😀"\\{}:,'), '"usage":{', "finish_reason", "[DONE]"]),
    max_size=8,
).map("".join)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pieces=st.lists(texts, max_size=6),
    spaced=st.booleans(),
    ending=st.sampled_from([b"\n", b"\n", b"\r\n", b"\r"]),
    own_usage=st.booleans(),
    data=st.data(),
)
def test_the_direct_entry_reads_and_passes_on_what_the_general_path_does(
    family: str,
    monkeypatch: pytest.MonkeyPatch,
    pieces: list[str],
    spaced: bool,
    ending: bytes,
    own_usage: bool,
    data: st.DataObject,
) -> None:
    with_usage = event_chunks(chat_stream(pieces, usage=True, spaced=spaced, ending=ending), ending)
    without = event_chunks(chat_stream(pieces, usage=False, spaced=spaced, ending=ending), ending)
    if data.draw(st.booleans(), label="cut anywhere"):
        size = len(b"".join(with_usage))
        cuts = data.draw(st.lists(st.integers(0, size), max_size=12), label="cuts")
        with_usage = cut(with_usage, cuts)
        without = cut(without, [c for c in cuts if c <= len(b"".join(without))])
    host = Host(family, with_usage, without)
    options = {"stream_options": {"include_usage": True}} if own_usage else {}

    plain, _ = read(family, host, tracked=False, **options)
    direct, direct_record = read(family, host, tracked=True, **options)
    with monkeypatch.context() as patch:
        patch.setattr(SSEDecoder, "between_events", lambda self: False)
        general, general_record = read(family, host, tracked=True, **options)

    assert direct == general == plain
    assert facts(direct_record) == facts(general_record)
    assert not direct_record.usage.estimated


def test_event_sized_chunks_take_the_direct_entry(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OpenAI stream's chunks never reach the SSE decoder, its first one included."""
    pieces = ["one", "two", "three", "four"]
    body = chat_stream(pieces, usage=True, spaced=False, ending=b"\n")
    without = chat_stream(pieces, usage=False, spaced=False, ending=b"\n")
    host = Host(family, event_chunks(body, b"\n"), event_chunks(without, b"\n"))
    fed: list[bytes] = []
    feed = SSEDecoder.feed

    def counting(self: SSEDecoder, chunk: bytes) -> Any:
        fed.append(chunk)
        return feed(self, chunk)

    monkeypatch.setattr(SSEDecoder, "feed", counting)

    chunks, record = read(family, host, tracked=True)

    assert fed == [], "a stream starting with 'data: ' has no BOM: every chunk goes direct"
    assert (
        "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "onetwothreefour"
    )
    assert all("usage" not in chunk for chunk in chunks)
    assert record.usage.output_tokens == 4 and not record.usage.estimated


def test_invalid_utf8_in_a_chunk_reads_as_its_replaced_text(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream cut short, whose text has invalid UTF-8: counted the same either way."""
    good = chat_stream(["x"] * 3, usage=False, spaced=False, ending=b"\n")
    chunks = event_chunks(good, b"\n")[:3]
    chunks[1] = chunks[1].replace(b'"x"', b'"\xe2\x28\xa1 abc"')
    host = Host(family, chunks, chunks)

    seen, direct = read(family, host, tracked=True)
    with monkeypatch.context() as patch:
        patch.setattr(SSEDecoder, "between_events", lambda self: False)
        _, general = read(family, host, tracked=True)

    assert seen[-1] == "UnicodeDecodeError"  # the SDK's own failure, tracked or not
    assert direct.usage.estimated and direct.usage == general.usage
    assert direct.usage.output_tokens > 3
