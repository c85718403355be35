"""Open-ended properties of the exchange, checked by hypothesis over many inputs."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from tokenbudget import Usage
from tokenbudget._core import ServerSentEvent, SSEDecoder, SSEError

from .fakes import (
    BILLED_MODEL,
    REPORTED,
    SSE_BODY,
    SSE_FILTERED,
    SSE_HEADERS,
    FakeHandler,
    hide_usage_and_shout,
    make_exchange,
    run,
    split_at,
)

pytest.importorskip("hypothesis", reason="the property tests need hypothesis (dev extra)")

from hypothesis import given, settings
from hypothesis import strategies as st

#: Any text but lone surrogates (which have no UTF-8 form).
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
line_endings = st.sampled_from([b"\n", b"\r\n", b"\r"])
tokens = st.integers(min_value=0, max_value=10**6)


def _event(document: object, ending: bytes) -> bytes:
    return b"data: " + json.dumps(document, ensure_ascii=False).encode() + ending + ending


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[str], Usage]:
    """A fake SSE answer: text pieces, then usage, then the end marker, any line endings."""
    pieces = draw(st.lists(texts, max_size=6))
    usage = Usage(input_tokens=draw(tokens), output_tokens=draw(tokens))
    parts = [_event({"text": piece}, draw(line_endings)) for piece in pieces]
    report = {
        "model": BILLED_MODEL,
        "usage": {"in": usage.input_tokens, "out": usage.output_tokens},
    }
    parts.append(_event(report, draw(line_endings)))
    parts.append(b"data: [DONE]" + draw(line_endings) * 2)
    return b"".join(parts), [piece for piece in pieces if piece], usage


@settings(max_examples=300, deadline=None)
@given(stream=streams(), encoded=st.booleans(), data=st.data())
def test_any_stream_in_any_pieces_reaches_the_caller_whole_and_reads_the_same(
    stream: tuple[bytes, list[str], Usage], encoded: bool, data: st.DataObject
) -> None:
    body, pieces, usage = stream
    wire = gzip.compress(body) if encoded else body
    headers = {**SSE_HEADERS, "content-encoding": "gzip"} if encoded else SSE_HEADERS
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=30), label="cuts")
    handler = FakeHandler()

    out, record = run(
        make_exchange(handler=handler, stream=True), 200, headers, split_at(wire, cuts)
    )

    assert out == wire, "without a filter the caller gets the provider's bytes, as they came"
    assert list(handler.the_reader.observation.output_text) == pieces
    assert record.usage == usage and record.model == BILLED_MODEL
    assert record.error is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(SSE_BODY) - 1), max_size=40))
def test_any_split_gives_the_same_filtered_bytes(cut_at: list[int]) -> None:
    handler = FakeHandler(event_filter=hide_usage_and_shout)
    exchange = make_exchange(handler=handler, stream=True)

    out, record = run(exchange, 200, SSE_HEADERS, split_at(SSE_BODY, cut_at))

    assert out == SSE_FILTERED
    assert record.usage == REPORTED


# -- the SSE decoder: split anywhere = whole = the spec ------------------------------------

#: Pieces an event stream is made of: fields (known, unknown, without a colon),
#: comments, values with multi-byte and invalid UTF-8, and stray blank lines.
_names = st.sampled_from([b"data", b"event", b"id", b"retry", b"", b"dat", b"x-other"])
_values = st.lists(
    st.sampled_from(
        [b"a", b" ", b"1", b"{}", b":", b"\xc3\xa9", b"\xf0\x9f\x98\x80", b"\xff", b"\0"]
    ),
    max_size=5,
).map(b"".join)
_endings = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def _event_streams(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["field", "bare", "comment", "blank"]))
        if kind == "field":
            line = draw(_names) + b":" + draw(st.sampled_from([b"", b" "])) + draw(_values)
        elif kind == "bare":
            line = draw(_names)
        elif kind == "comment":
            line = b":" + draw(_values)
        else:
            line = b""
        lines.append(line + draw(_endings))
    if lines and draw(st.booleans()):
        lines[-1] = lines[-1].rstrip(b"\r\n")  # the stream may end mid-line
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + b"".join(lines)


def _spec_events(body: bytes) -> list[tuple[str, str, str | None, int | None]]:
    """The WHATWG event-stream rules, written plainly over the whole body (the oracle)."""
    body = body.removeprefix(b"\xef\xbb\xbf")
    events = []
    event, data, last_id, retry = b"", [], None, None
    lines = re.split(rb"\r\n|\r|\n", body)
    for index, line in enumerate(lines):
        final = index == len(lines) - 1
        if final and not line:
            break  # the body ended with a line end
        if not line:
            if data:
                events.append((event.decode("utf-8", "replace") or "message", data, last_id, retry))
            event, data, retry = b"", [], None
            continue
        if line[:1] == b":":
            continue
        name, _, value = line.partition(b":")
        value = value[1:] if value[:1] == b" " else value
        if name == b"data":
            data = [*data, value]
        elif name == b"event":
            event = value
        elif name == b"id" and b"\0" not in value:
            last_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            retry = int(value)
    if data:  # tokenbudget's leniency: a last event without its blank line still counts
        events.append((event.decode("utf-8", "replace") or "message", data, last_id, retry))
    return [
        (name, b"\n".join(parts).decode("utf-8", "replace"), id_, retry_)
        for name, parts, id_, retry_ in events
    ]


@settings(max_examples=500, deadline=None)
@given(body=_event_streams(), keep_raw=st.booleans(), data=st.data())
def test_the_sse_decoder_gives_the_same_events_however_the_stream_is_split(
    body: bytes, keep_raw: bool, data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=20), label="cuts")
    decoder = SSEDecoder(keep_raw=keep_raw)
    events = [event for chunk in split_at(body, cuts) for event in decoder.feed(chunk)]
    events += decoder.flush()

    assert [(e.event, e.data, e.id, e.retry) for e in events] == _spec_events(body)
    if keep_raw:  # the bytes of the events and the tail are the stream, byte for byte
        assert b"".join(event.raw for event in events) + decoder.take_tail() == body


@settings(max_examples=200, deadline=None)
@given(body=_event_streams(), data=st.data())
def test_an_oversized_event_loses_no_byte_and_no_event_before_it(
    body: bytes, data: st.DataObject
) -> None:
    """Past the bound, the error still hands over every byte fed: nothing is dropped."""
    limit = data.draw(st.integers(1, 40), label="max_event_bytes")
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=10), label="cuts")
    decoder = SSEDecoder(keep_raw=True, max_event_bytes=limit)
    seen = b""
    for chunk in split_at(body, cuts):
        try:
            seen += b"".join(event.raw for event in decoder.feed(chunk))
        except SSEError as error:
            seen += b"".join(event.raw for event in error.events) + error.rest + error.unread
            decoder = SSEDecoder(keep_raw=True, max_event_bytes=limit)
            assert len(error.unread) < len(chunk) or not chunk
    try:
        seen += b"".join(event.raw for event in decoder.flush())
        seen += decoder.take_tail()
    except SSEError as error:
        seen += b"".join(event.raw for event in error.events) + error.rest
    assert seen == body


def _hide_reports(event: ServerSentEvent) -> bytes:
    """A filter hiding the usage report (as if tokenbudget had asked for it): the event
    whose document has a ``usage`` key, not one whose text merely says "usage"."""
    data = event.data
    report = data.startswith("{") and "usage" in json.loads(data)
    return b"" if report else event.raw


@settings(max_examples=300, deadline=None)
@given(stream=streams(), encoded=st.booleans(), data=st.data())
def test_a_filter_hides_exactly_its_event_however_the_stream_is_split(
    stream: tuple[bytes, list[str], Usage], encoded: bool, data: st.DataObject
) -> None:
    """Whatever the line endings and the cuts (one inside a "\\r\\n" included), the caller
    gets the stream minus the hidden event's own bytes, not one byte more or less."""
    body, _, usage = stream
    report = body[body.index(b'data: {"model"') : body.index(b"data: [DONE]")]
    wire = gzip.compress(body) if encoded else body
    headers = {**SSE_HEADERS, "content-encoding": "gzip"} if encoded else SSE_HEADERS
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=30), label="cuts")
    handler = FakeHandler(event_filter=_hide_reports)

    out, record = run(
        make_exchange(handler=handler, stream=True), 200, headers, split_at(wire, cuts)
    )

    assert out == body.replace(report, b"")
    assert record.usage == usage
