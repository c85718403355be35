"""Tests for the incremental server-sent events decoder."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from tokenbudget._core import ServerSentEvent, SSEDecoder, SSEError

LINE_ENDINGS = [b"\n", b"\r\n", b"\r"]

OPENAI_STREAM = (
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,'
    b'"delta":{"role":"assistant","content":""}}]}\n'
    b"\n"
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,'
    b'"delta":{"content":"Bonjour \xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80"}}]}\n'
    b"\n"
    b": keep-alive\n"
    b"\n"
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,'
    b'"delta":{},"finish_reason":"stop"}]}\n'
    b"\n"
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],'
    b'"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}\n'
    b"\n"
    b"data: [DONE]\n"
    b"\n"
)

ANTHROPIC_STREAM = (
    b"event: message_start\n"
    b'data: {"type":"message_start","message":{"id":"msg_1","type":"message",'
    b'"role":"assistant","model":"claude","usage":{"input_tokens":25,"output_tokens":1}}}\n'
    b"\n"
    b"event: content_block_start\n"
    b'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n'
    b"\n"
    b"event: ping\n"
    b'data: {"type": "ping"}\n'
    b"\n"
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"H\xc3\xa9llo \xf0\x9f\x91\x8b"}}\n'
    b"\n"
    b"event: content_block_stop\n"
    b'data: {"type":"content_block_stop","index":0}\n'
    b"\n"
    b"event: message_delta\n"
    b'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    b'"usage":{"output_tokens":15}}\n'
    b"\n"
    b"event: message_stop\n"
    b'data: {"type":"message_stop"}\n'
    b"\n"
)

# Exercises every raw-tracking path: BOM, comments before, between and after
# events, blank lines that dispatch nothing, mixed line endings and an
# unterminated final event.
MESSY_STREAM = (
    b"\xef\xbb\xbf: hello\r\n"
    b"\r\n"
    b"\n"
    b"event: a\r\n"
    b"id: 1\r"
    b"data: x\r\r"
    b": between\n"
    b"id: 2\n"
    b"\n"
    b"retry: 10\n"
    b"data: caf\xc3\xa9\n"
    b"data\n"
    b"\n"
    b": trailing\r\n"
    b"\r\n"
    b"event: unfinished\n"
    b"data: y"
)


def decode(chunks: Iterable[bytes], **kwargs: object) -> list[ServerSentEvent]:
    """Feed the chunks to a fresh decoder, flush it, and return all events."""
    decoder = SSEDecoder(**kwargs)  # type: ignore[arg-type]
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def split_two(data: bytes) -> Iterable[tuple[bytes, bytes]]:
    return ((data[:i], data[i:]) for i in range(len(data) + 1))


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def with_line_ending(data: bytes, ending: bytes) -> bytes:
    return data.replace(b"\n", ending)


def event(
    data: str, event: str = "message", id: str | None = None, retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


# --- line endings -----------------------------------------------------------


@pytest.mark.parametrize("ending", LINE_ENDINGS, ids=["LF", "CRLF", "CR"])
def test_line_endings(ending: bytes) -> None:
    stream = with_line_ending(b"event: a\ndata: 1\ndata: 2\n\ndata: 3\n\n", ending)
    assert decode([stream]) == [event("1\n2", event="a"), event("3")]


def test_mixed_line_endings() -> None:
    stream = b"data: 1\rdata: 2\r\ndata: 3\n\r\ndata: 4\r\r"
    assert decode([stream]) == [event("1\n2\n3"), event("4")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    # The blank line ends at its "\r": the event comes out at once...
    assert decoder.feed(b"\n\r") == [event("a")]
    # ...and the "\n" after it is the rest of that "\r\n", not a second blank line.
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"data: c\r") == []
    assert decoder.feed(b"\n\r\n") == [event("b\nc")]
    assert decoder.flush() == []


def test_a_trailing_cr_ends_its_line_at_once() -> None:
    """A bare-CR stream's events come out in the feed that completes them."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [event("a")]
    assert decoder.feed(b"data: [DONE]\r\r") == [event("[DONE]")]
    assert decoder.flush() == []


def test_the_lf_after_a_trailing_cr_stays_in_the_raw_bytes() -> None:
    decoder = SSEDecoder(keep_raw=True)
    first = decoder.feed(b"data: a\r\n\r")
    assert [e.raw for e in first] == [b"data: a\r\n\r"]
    second = decoder.feed(b"\ndata: b\r\n\r\n")
    assert [e.raw for e in second] == [b"\ndata: b\r\n\r\n"]


# --- fields -----------------------------------------------------------------


def test_comments_are_ignored() -> None:
    stream = b": ping\n\ndata: 1\n: note\ndata: 2\n\n:\n\n"
    assert decode([stream]) == [event("1\n2")]


def test_multi_line_data() -> None:
    stream = b"data: first\ndata:\ndata: third\n\n"
    assert decode([stream]) == [event("first\n\nthird")]


def test_event_type_defaults_and_resets() -> None:
    stream = (
        b"event: custom\ndata: 1\n\n"
        b"data: 2\n\n"
        b"event:\ndata: 3\n\n"
        b"event: dropped\n\n"  # no data: nothing dispatched, type reset anyway
        b"data: 4\n\n"
    )
    assert decode([stream]) == [
        event("1", event="custom"),
        event("2"),
        event("3"),
        event("4"),
    ]


def test_id_persists_across_events() -> None:
    stream = (
        b"data: 1\n\n"
        b"id: a\ndata: 2\n\n"
        b"data: 3\n\n"
        b"id: b\n\n"  # no data: nothing dispatched, but the id still counts
        b"data: 4\n\n"
        b"id\ndata: 5\n\n"
    )
    assert [e.id for e in decode([stream])] == [None, "a", "a", "b", ""]


def test_id_containing_nul_is_ignored() -> None:
    stream = b"id: good\ndata: 1\n\nid: b\x00d\ndata: 2\n\n"
    assert [e.id for e in decode([stream])] == ["good", "good"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"retry: 3000", 3000),
        (b"retry:0", 0),
        (b"retry: 12a", None),
        (b"retry: -1", None),
        (b"retry: 1.5", None),
        (b"retry:  10", None),  # only one space is stripped
        (b"retry: \xd9\xa1\xd9\xa2", None),  # non-ASCII digits
        (b"retry:", None),
        (b"retry", None),
    ],
)
def test_retry(line: bytes, expected: int | None) -> None:
    assert decode([line + b"\ndata: x\n\n"]) == [event("x", retry=expected)]


def test_retry_belongs_to_one_event() -> None:
    stream = b"retry: 5\ndata: 1\n\ndata: 2\n\nretry: 7\n\ndata: 3\n\n"
    assert [e.retry for e in decode([stream])] == [5, None, None]


def test_unknown_fields_are_ignored() -> None:
    stream = b"foo: bar\nData: no\ndata : no\ndata: yes\n\n"
    assert decode([stream]) == [event("yes")]


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (b"data\n\n", ""),
        (b"data\ndata\n\n", "\n"),
        (b"data:\n\n", ""),
        (b"data: \n\n", ""),
    ],
)
def test_field_without_value(stream: bytes, expected: str) -> None:
    assert decode([stream]) == [event(expected)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"data:x", "x"),
        (b"data: x", "x"),
        (b"data:  x", " x"),
        (b"data:\tx", "\tx"),
        (b"data: x ", "x "),
        (b"data: a: b", "a: b"),
    ],
)
def test_only_one_leading_space_is_stripped(line: bytes, expected: str) -> None:
    assert decode([line + b"\n\n"]) == [event(expected)]


def test_empty_data_events_are_not_dispatched() -> None:
    stream = b"\n\n\nevent: x\n\nid: 1\n\nretry: 5\n\n: c\n\n"
    assert decode([stream]) == []


# --- encoding ---------------------------------------------------------------


def test_bom_is_skipped() -> None:
    assert decode([b"\xef\xbb\xbfdata: 1\n\n"]) == [event("1")]


def test_bom_split_across_chunks_is_skipped() -> None:
    stream = b"\xef\xbb\xbfdata: 1\n\n"
    assert decode(one_byte_at_a_time(stream)) == [event("1")]


def test_only_the_first_bom_is_skipped() -> None:
    # A second BOM makes the field name "\ufeffdata", which is unknown.
    assert decode([b"\xef\xbb\xbf\xef\xbb\xbfdata: 1\n\ndata: 2\n\n"]) == [event("2")]
    assert decode([b"data: 1\n\n\xef\xbb\xbfdata: 2\n\n"]) == [event("1")]


@pytest.mark.parametrize("text", ["é", "€", "😀", "naïve 👋🏽 日本"])
def test_multi_byte_utf8_split_across_chunks(text: str) -> None:
    stream = f"event: {text}\ndata: {text}\nid: {text}\n\n".encode()
    expected = [event(text, event=text, id=text)]
    for chunks in split_two(stream):
        assert decode(chunks) == expected
    assert decode(one_byte_at_a_time(stream)) == expected


def test_invalid_utf8_is_replaced() -> None:
    stream = b"event: \xff\ndata: a\xc3\ndata: \xed\xa0\x80b\nid: \xfe\n\n"
    assert decode([stream]) == [event("a\ufffd\n\ufffd\ufffd\ufffdb", event="\ufffd", id="\ufffd")]


# --- chunking ---------------------------------------------------------------


def test_openai_stream_events() -> None:
    events = decode([OPENAI_STREAM])
    assert [e.event for e in events] == ["message"] * 5
    assert events[-1].data == "[DONE]"
    assert json.loads(events[1].data)["choices"][0]["delta"]["content"] == "Bonjour été 😀"
    assert json.loads(events[3].data)["usage"]["total_tokens"] == 12


def test_anthropic_stream_events() -> None:
    events = decode([ANTHROPIC_STREAM])
    assert [e.event for e in events] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(json.loads(e.data)["type"] == e.event for e in events)
    assert json.loads(events[3].data)["delta"]["text"] == "Héllo 👋"


@pytest.mark.parametrize("keep_raw", [False, True], ids=["plain", "keep_raw"])
@pytest.mark.parametrize("ending", LINE_ENDINGS, ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize(
    "stream",
    [OPENAI_STREAM, ANTHROPIC_STREAM, MESSY_STREAM],
    ids=["openai", "anthropic", "messy"],
)
def test_chunking_does_not_change_events(stream: bytes, ending: bytes, keep_raw: bool) -> None:
    """The same events, whatever the split; only the "\\n" of a "\\r\\n" split after its
    "\\r" may move from the end of one event's raw bytes to the start of the next."""
    stream = with_line_ending(stream, ending)
    expected = fields(decode([stream], keep_raw=keep_raw))
    assert expected
    for chunks in [*split_two(stream), one_byte_at_a_time(stream)]:
        decoder = SSEDecoder(keep_raw=keep_raw)
        events = [event for chunk in chunks for event in decoder.feed(chunk)]
        events += decoder.flush()
        assert fields(events) == expected
        if keep_raw:
            assert b"".join(e.raw for e in events) + decoder.take_tail() == stream


def fields(events: list[ServerSentEvent]) -> list[tuple[str, str, str | None, int | None]]:
    return [(e.event, e.data, e.id, e.retry) for e in events]


# --- keep_raw ---------------------------------------------------------------


def test_raw_of_each_event() -> None:
    decoder = SSEDecoder(keep_raw=True)
    events = decoder.feed(MESSY_STREAM) + decoder.flush()
    assert [e.raw for e in events] == [
        b"\xef\xbb\xbf: hello\r\n\r\n\nevent: a\r\nid: 1\rdata: x\r\r",
        b": between\nid: 2\n\nretry: 10\ndata: caf\xc3\xa9\ndata\n\n",
        b": trailing\r\n\r\nevent: unfinished\ndata: y",
    ]
    assert [(e.event, e.data, e.id, e.retry) for e in events] == [
        ("a", "x", "1", None),
        ("message", "café\n", "2", 10),
        ("unfinished", "y", "2", None),
    ]
    assert decoder.take_tail() == b""


def test_take_tail_returns_bytes_after_last_event() -> None:
    decoder = SSEDecoder(keep_raw=True)
    events = decoder.feed(b"data: 1\n\n: ping\n\nevent: x\ndata: partial")
    assert [e.raw for e in events] == [b"data: 1\n\n"]
    # The unterminated line is not consumed yet.
    assert decoder.take_tail() == b": ping\n\nevent: x\n"
    assert decoder.take_tail() == b""
    assert [e.raw for e in decoder.feed(b"\n\n")] == [b"data: partial\n\n"]
    assert decoder.feed(b": bye\n") == []
    assert decoder.flush() == []
    assert decoder.take_tail() == b": bye\n"


@pytest.mark.parametrize("ending", LINE_ENDINGS, ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize(
    "stream",
    [OPENAI_STREAM, ANTHROPIC_STREAM, MESSY_STREAM, MESSY_STREAM + b"\n: tail\n\n"],
    ids=["openai", "anthropic", "messy", "messy-tail"],
)
def test_keep_raw_reproduces_input_at_every_split(stream: bytes, ending: bytes) -> None:
    stream = with_line_ending(stream, ending)
    for chunks in [*split_two(stream), one_byte_at_a_time(stream)]:
        decoder = SSEDecoder(keep_raw=True)
        raws = [e.raw for chunk in chunks for e in decoder.feed(chunk)]
        raws += [e.raw for e in decoder.flush()]
        assert b"".join(raws) + decoder.take_tail() == stream


def test_raw_is_empty_without_keep_raw() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b": c\ndata: 1\n\n: c\n") + decoder.flush()
    assert [e.raw for e in events] == [b""]
    assert decoder.take_tail() == b""


# --- limits -----------------------------------------------------------------


def test_max_event_bytes_single_line() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    with pytest.raises(SSEError, match="max_event_bytes=100"):
        decoder.feed(b"data: " + b"x" * 200 + b"\n\n")


def test_max_event_bytes_unterminated_line() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    with pytest.raises(SSEError):
        for _ in range(20):
            decoder.feed(b"x" * 10)


def test_max_event_bytes_many_lines() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    with pytest.raises(SSEError):
        for _ in range(20):
            decoder.feed(b"data: 1\n")


def test_max_event_bytes_counts_per_event() -> None:
    line = b"data: " + b"x" * 93 + b"\n"  # 100 bytes: exactly at the limit
    stream = (line + b"\n") * 50 + (b": ping\n\n" * 50)
    events = decode([stream], max_event_bytes=100)
    assert len(events) == 50
    for chunks in split_two(stream[:300]):
        assert len(decode(chunks, max_event_bytes=100)) == 3


def test_max_event_bytes_bounds_raw_between_events() -> None:
    # Without keep_raw, blank lines and comments between events are not kept...
    assert decode([b": ping\n\n" * 100], max_event_bytes=100) == []
    # ...with it they are, so they count.
    with pytest.raises(SSEError):
        decode([b": ping\n\n" * 100], max_event_bytes=100, keep_raw=True)
    with pytest.raises(SSEError):
        decode([b"\n" * 101], max_event_bytes=100, keep_raw=True)


def test_sse_error_is_value_error() -> None:
    assert issubclass(SSEError, ValueError)


# --- flush ------------------------------------------------------------------


@pytest.mark.parametrize(
    "stream",
    [
        b"data: last",
        b"data: last\n",
        b"data: last\r",
        b"data: last\r\n",
        b"event: e\ndata: last",
    ],
)
def test_flush_dispatches_event_missing_final_blank_line(stream: bytes) -> None:
    events = decode([stream])
    assert [e.data for e in events] == ["last"]


def test_flush_without_pending_data_dispatches_nothing() -> None:
    assert decode([b"data: 1\n\nevent: x\nid: 2\n: c"]) == [event("1")]
    assert decode([b""]) == []
    assert decode([]) == []


def test_feed_empty_chunk() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"data: 1\r") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\r") == [event("1")]
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\n") == []
    assert decoder.flush() == []


# --- many chunks (speed is measured in benchmarks/, not here) ---------------


def test_many_small_chunks() -> None:
    stream = OPENAI_STREAM[: OPENAI_STREAM.index(b"\n\n") + 2] * 1000
    chunk_size = len(stream) // 1000
    chunks = [stream[i : i + chunk_size] for i in range(0, len(stream), chunk_size)]
    decoder = SSEDecoder(keep_raw=True)
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    assert len(events) == 1000
    assert b"".join(e.raw for e in events) + decoder.take_tail() == stream


# --- one event per chunk (the decoder's fast path) ----------------------------


def _event_per_chunk(stream: bytes) -> list[bytes]:
    """The stream cut after each blank line, as servers send it."""
    pieces = stream.split(b"\n\n")
    return [piece + b"\n\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])


@pytest.mark.parametrize("keep_raw", [False, True], ids=["plain", "keep_raw"])
@pytest.mark.parametrize(
    "stream",
    [
        OPENAI_STREAM,
        ANTHROPIC_STREAM,
        MESSY_STREAM,
        # state the fast path must carry or defer to the general path for
        b"id: 7\n\ndata: a\n\n: ping\ndata: b\n\nretry: 5\n\ndata: c\n\ndata:d\n\n",
        b"event: x\n\ndata: a\n\ndata: b\ndata: c\n\ndata:  two spaces\n\n",
        b"\xef\xbb\xbfdata: first\n\ndata: \xff bad utf-8\n\n",
    ],
    ids=["openai", "anthropic", "messy", "state", "multi-line", "bom"],
)
def test_one_event_per_chunk_decodes_like_one_byte_at_a_time(stream: bytes, keep_raw: bool) -> None:
    expected = decode(one_byte_at_a_time(stream), keep_raw=keep_raw)
    assert decode(_event_per_chunk(stream), keep_raw=keep_raw) == expected


def test_one_event_per_chunk_respects_max_event_bytes() -> None:
    decoder = SSEDecoder(max_event_bytes=8)
    assert decoder.feed(b"data: a\n\n")[0].data == "a"
    with pytest.raises(SSEError):
        decoder.feed(b"data: 0123456789\n\n")
