"""An event stream through an exchange: teed chunk by chunk, read event by event, filtered."""

from __future__ import annotations

import gzip
import itertools
import zlib

import pytest

from tokenbudget._core import BodyDecodingError

from .fakes import (
    BILLED_MODEL,
    REPORTED,
    SSE_BODY,
    SSE_EVENTS,
    SSE_FILTERED,
    SSE_HEADERS,
    SSE_TEXT,
    FakeHandler,
    FakeLibrary,
    hide_usage_and_shout,
    make_exchange,
    price_of,
    respond,
    run,
    split_at,
)

#: Cuts inside a CRLF, inside a two-byte and a four-byte UTF-8 character, mid-line in
#: a multi-line data field, and right before an event's blank line.
AWKWARD_CUTS = [
    SSE_BODY.index(b"\r\n") + 1,
    SSE_BODY.index(b"\xc3") + 1,
    SSE_BODY.index(b"\xf0") + 2,
    SSE_BODY.index(b'"usage"') + 3,
    SSE_BODY.index(b"\r\n\r\n", SSE_BODY.index(b"usage")) + 2,
]


def test_a_stream_split_at_awkward_places_is_passed_on_whole_and_read() -> None:
    library, handler = FakeLibrary(), FakeHandler()
    exchange = make_exchange(library, handler, stream=True)
    chunks = split_at(SSE_BODY, AWKWARD_CUTS)
    assert len(chunks) == len(AWKWARD_CUTS) + 1

    assert exchange.start_response(200, SSE_HEADERS) == []
    assert [exchange.feed(chunk) for chunk in chunks] == chunks
    assert exchange.end_of_body() == b""
    record = exchange.finish()

    reader = handler.the_reader
    assert [event.event for event in reader.events] == ["message", "message", "usage", "message"]
    assert list(reader.observation.output_text) == SSE_TEXT
    assert record is not None and library.records == [record]
    assert record.usage == REPORTED and not record.estimated
    assert record.model == BILLED_MODEL
    assert record.cost_usd == price_of(BILLED_MODEL, REPORTED)
    assert record.stream and record.error is None


def test_events_are_read_as_they_arrive_not_at_the_end() -> None:
    handler = FakeHandler()
    exchange = make_exchange(handler=handler, stream=True)
    seen_after_byte: list[int] = []

    def count(_: int) -> None:
        seen_after_byte.append(len(handler.the_reader.events))

    respond(exchange, 200, SSE_HEADERS, split_at(SSE_BODY, range(len(SSE_BODY))), on_chunk=count)

    # The count goes up by one where each event's blank line ends (at the "\r" of a
    # "\r\n": a client may stop there), and nowhere else.
    event_ends = [
        end - event.endswith(b"\r\n")
        for end, event in zip(
            itertools.accumulate(len(e) for e in SSE_EVENTS), SSE_EVENTS, strict=True
        )
    ]
    counts = [0, *seen_after_byte]
    steps = [fed for fed in range(1, len(counts)) if counts[fed] != counts[fed - 1]]
    assert steps == event_ends
    assert counts[-1] == len(SSE_EVENTS)


def test_a_provider_error_event_is_recorded_as_the_calls_error() -> None:
    body = b'data: {"text": "Hi"}\n\nevent: error\ndata: overloaded\n\n'

    _, record = run(make_exchange(stream=True), 200, SSE_HEADERS, [body])

    assert record.error == "overloaded"
    assert not record.succeeded


def test_an_event_filter_rewrites_and_drops_events_for_the_caller() -> None:
    handler = FakeHandler(event_filter=hide_usage_and_shout)
    exchange = make_exchange(handler=handler, stream=True)
    chunks = split_at(SSE_BODY, AWKWARD_CUTS)

    dropped = exchange.start_response(200, SSE_HEADERS)
    out = b"".join(exchange.feed(chunk) for chunk in chunks) + exchange.end_of_body()
    record = exchange.finish()

    assert sorted(dropped) == ["content-encoding", "content-length"]
    assert out == SSE_FILTERED
    assert record is not None
    assert record.usage == REPORTED, "the reader still saw the event the caller did not"
    assert [event.event for event in handler.the_reader.events].count("usage") == 1


def test_a_filter_hands_over_what_follows_the_last_event_at_the_end() -> None:
    handler = FakeHandler(event_filter=hide_usage_and_shout)
    exchange = make_exchange(handler=handler, stream=True)
    trailer = b': bye\n\ndata: {"text": "!"}'  # no blank line after it
    exchange.start_response(200, SSE_HEADERS)

    fed = exchange.feed(SSE_BODY + trailer)
    tail = exchange.end_of_body()

    assert fed == SSE_FILTERED
    # The unterminated event is dispatched at the end (its raw bytes with it).
    assert tail == trailer
    assert list(handler.the_reader.observation.output_text) == [*SSE_TEXT, "!"]


def test_a_gzip_stream_with_a_filter_reaches_the_caller_decoded() -> None:
    handler = FakeHandler(event_filter=hide_usage_and_shout)
    encoded = gzip.compress(SSE_BODY)
    headers = {**SSE_HEADERS, "content-encoding": "gzip"}

    out, record = run(
        make_exchange(handler=handler, stream=True), 200, headers, split_at(encoded, [3, 20])
    )

    assert out == SSE_FILTERED
    assert record.usage == REPORTED and not record.estimated


def test_a_gzip_stream_without_a_filter_reaches_the_caller_encoded() -> None:
    encoded = gzip.compress(SSE_BODY)
    headers = {**SSE_HEADERS, "content-encoding": "gzip"}
    chunks = split_at(encoded, [3, 20])

    out, record = run(make_exchange(stream=True), 200, headers, chunks)

    assert out == encoded
    assert record.usage == REPORTED and not record.estimated


def test_a_decoded_body_that_breaks_owes_the_caller_every_decoded_byte() -> None:
    """With a filter the caller gets decoded bytes; when gzip breaks, nothing decoded is lost."""
    packed = bytearray(gzip.compress(SSE_BODY, mtime=0))
    packed[60:64] = b"\xff\xff\xff\xff"
    chunks = split_at(bytes(packed), range(7, len(packed), 7))
    handler = FakeHandler(event_filter=lambda event: event.raw)
    exchange = make_exchange(handler=handler, stream=True)
    assert exchange.start_response(200, {**SSE_HEADERS, "content-encoding": "gzip"})

    given = b""
    with pytest.raises(BodyDecodingError) as caught:
        for chunk in chunks:
            given += exchange.feed(chunk)
    given += caught.value.decoded

    decoded, inflate = b"", zlib.decompressobj(zlib.MAX_WBITS | 16)
    with pytest.raises(zlib.error):
        for chunk in chunks:
            decoded += inflate.decompress(chunk)
    assert given == decoded and given, "what zlib decoded before the damage, in full"
    record = exchange.finish(caught.value)
    assert record is not None and record.usage.estimated and record.error
