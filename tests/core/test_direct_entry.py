"""The observer's direct entry: a stream's usual chunk read as bytes, with no SSE decoding.

A reader that overrides ``UsageReader.on_data`` and a filter that is a
``DataFilter`` get a chunk that is exactly one ``data: `` line and its blank
line, arriving while the SSE decoder is between events, as its data bytes. Every
stream here is read twice, with the direct entry and with it shut off (the
decoder then never says it is between events), and must give the caller the same
bytes, the reader the same data, the cache the same copy and the call the same
record, whatever the cuts, line endings, failures and budgets.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tokenbudget import Usage
from tokenbudget._core import DataFilter, ServerSentEvent, SSEDecoder, UsageReader

from .fakes import (
    SSE_BODY,
    SSE_HEADERS,
    FakeCache,
    FakeGuard,
    FakeHandler,
    FakeLibrary,
    FakeReader,
    make_exchange,
    run,
    split_at,
)

pytest.importorskip("hypothesis", reason="the property tests need hypothesis (dev extra)")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


class DataReader(FakeReader):
    """The fake reader with a bytes entry, reading the data exactly as ``on_event`` does."""

    def on_data(self, data: bytes) -> None:
        self.on_event(ServerSentEvent("message", data.decode("utf-8", "replace")))


class FailingDataReader(DataReader):
    """Fails on the second text event, whichever entry it comes through."""

    def on_json(self, document: Any) -> None:
        if document.get("text") == "b":
            raise RuntimeError("reader bug")
        super().on_json(document)


def _hide_report(raw: bytes, data: bytes) -> bytes:
    return b"" if b'"usage"' in data else raw


def _shout(raw: bytes, data: bytes) -> bytes:
    if b"boom" in data:
        raise RuntimeError("filter bug")
    return raw.replace(b'"a"', b'"A"')


def _stream(texts: list[str], ending: bytes) -> bytes:
    events = [json.dumps({"text": text}) for text in texts]
    events.append(json.dumps({"model": "fake-large", "usage": {"in": 11, "out": 7}}))
    events.append("[DONE]")
    return b"".join(b"data: " + e.encode() + ending + ending for e in events)


def _events(body: bytes, ending: bytes) -> list[bytes]:
    blank = ending * 2
    return [part + blank for part in body.split(blank) if part]


def _read(
    chunks: list[bytes],
    *,
    reader: type[FakeReader] = DataReader,
    event_filter: Any = None,
    cache: FakeCache | None = None,
    guards: tuple[FakeGuard, ...] = (),
    direct: bool = True,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[bytes, Any, list[str], FakeLibrary]:
    library = FakeLibrary(cache=cache, guards=guards)
    handler = FakeHandler(reader=reader, event_filter=event_filter)
    exchange = make_exchange(library, handler, stream=True)
    with monkeypatch.context() as patch:
        if not direct:
            patch.setattr(SSEDecoder, "between_events", lambda self: False)
        exchange.lookup_cache()
        exchange.admit()
        out, record = run(exchange, 200, SSE_HEADERS, chunks)
    return out, record, [e.data for e in handler.the_reader.events], library


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(st.sampled_from(["a", "b", "é😀", "boom", ' "usage"', ""]), max_size=6),
    ending=st.sampled_from([b"\n", b"\n", b"\r\n", b"\r"]),
    cut_anywhere=st.booleans(),
    reader=st.sampled_from([DataReader, FailingDataReader]),
    event_filter=st.sampled_from([None, DataFilter(_hide_report), DataFilter(_shout)]),
    cached=st.booleans(),
    data=st.data(),
)
def test_direct_and_general_paths_agree(
    monkeypatch: pytest.MonkeyPatch,
    texts: list[str],
    ending: bytes,
    cut_anywhere: bool,
    reader: type[FakeReader],
    event_filter: Any,
    cached: bool,
    data: st.DataObject,
) -> None:
    body = _stream(texts, ending)
    chunks = _events(body, ending)
    if cut_anywhere:
        chunks = split_at(body, data.draw(st.lists(st.integers(0, len(body)), max_size=8)))
    results = []
    for direct in (True, False):
        cache = FakeCache() if cached else None
        out, record, seen, _ = _read(
            chunks,
            reader=reader,
            event_filter=event_filter,
            cache=cache,
            direct=direct,
            monkeypatch=monkeypatch,
        )
        stored = [(key, answer.body) for key, answer in cache.stored] if cache else None
        results.append((out, record.usage, record.model, record.succeeded, seen, stored))
    assert results[0] == results[1]


def test_event_sized_chunks_skip_the_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    body = _stream(["a", "b", "c"], b"\n")
    fed: list[bytes] = []
    feed = SSEDecoder.feed
    monkeypatch.setattr(
        SSEDecoder, "feed", lambda self, chunk: fed.append(chunk) or feed(self, chunk)
    )

    out, record, seen, _ = _read(
        _events(body, b"\n"), event_filter=DataFilter(_hide_report), monkeypatch=monkeypatch
    )

    assert fed == []  # the first chunk too: a stream starting "data: " has no BOM
    assert out == body.replace(
        b'data: {"model": "fake-large", "usage": {"in": 11, "out": 7}}\n\n', b""
    )
    assert record.usage == Usage(input_tokens=11, output_tokens=7)
    assert seen[-1] == "[DONE]"


@pytest.mark.parametrize(
    ("reader", "event_filter", "guards"),
    [
        pytest.param(FakeReader, None, (), id="reader-without-on_data"),
        pytest.param(DataReader, lambda event: event.raw, (), id="filter-without-bytes-form"),
        pytest.param(DataReader, None, (FakeGuard(watches_stream=True),), id="watched-stream"),
    ],
)
def test_what_the_direct_entry_cannot_serve_goes_the_general_path(
    monkeypatch: pytest.MonkeyPatch, reader: Any, event_filter: Any, guards: Any
) -> None:
    body = _stream(["a", "b"], b"\n")
    fed: list[bytes] = []
    feed = SSEDecoder.feed
    monkeypatch.setattr(
        SSEDecoder, "feed", lambda self, chunk: fed.append(chunk) or feed(self, chunk)
    )

    out, record, _seen, _ = _read(
        _events(body, b"\n"),
        reader=reader,
        event_filter=event_filter,
        guards=guards,
        monkeypatch=monkeypatch,
    )

    assert len(fed) == len(_events(body, b"\n"))
    assert out == body and record.usage == Usage(input_tokens=11, output_tokens=7)


def test_the_default_on_data_reads_through_on_event() -> None:
    seen: list[ServerSentEvent] = []

    class Reader(UsageReader):
        def on_event(self, event: ServerSentEvent) -> None:
            seen.append(event)

    Reader(make_exchange().endpoint).on_data(b'{"a": "\xe2\x28"}')

    assert seen == [ServerSentEvent("message", '{"a": "\ufffd("}')]


def test_an_unsplit_body_is_still_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several events in one chunk are not the usual chunk: decoded as before."""
    out, record, seen, _ = _read([SSE_BODY], monkeypatch=monkeypatch)

    assert out == SSE_BODY and record.model == "fake-large" and seen[-1] == "[DONE]"
