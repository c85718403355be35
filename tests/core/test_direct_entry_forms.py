"""Which chunks the observer's direct entry takes: exactly those the old test took.

The direct entry once tested a chunk with ``endswith``/``find``/``startswith``; it
now cuts it with ``partition`` and ``removeprefix`` (cheaper on CPython 3.11), and
takes a stream's first chunk too when it starts with ``data: ``. Arbitrary chunks
of arbitrary bytes around the ones that matter (``data:``, spaces, "\\n", "\\r", a
BOM) are fed to an observer whose decoder is between events: the reader must get
as data, by the direct entry, exactly the chunks the old test accepted, and the
same chunks fed as ``bytearray`` must be read the same way.
"""

from __future__ import annotations

from typing import Any

import pytest

from tokenbudget._core import ServerSentEvent, SSEDecoder
from tokenbudget._core._sse import MAX_EVENT_BYTES

from .fakes import SSE_HEADERS, FakeHandler, FakeReader, make_exchange, respond

pytest.importorskip("hypothesis", reason="the property tests need hypothesis (dev extra)")

from hypothesis import given, settings
from hypothesis import strategies as st


class DataReader(FakeReader):
    """Keeps the data it gets by the direct entry apart; parses nothing (never fails)."""

    def __init__(self, endpoint: Any) -> None:
        super().__init__(endpoint)
        self.direct: list[bytes] = []

    def on_data(self, data: bytes) -> None:
        self.direct.append(bytes(data))
        self.on_event(ServerSentEvent("message", bytes(data).decode("utf-8", "replace")))

    def on_event(self, event: ServerSentEvent) -> None:
        self.events.append(event)


def old_test(chunk: bytes) -> bool:
    """The direct entry's test as it was."""
    return (
        chunk.endswith(b"\n\n")
        and chunk.find(b"\n") == len(chunk) - 2 < MAX_EVENT_BYTES
        and chunk.startswith(b"data: ")
        and chunk.find(b"\r") < 0
    )


pieces = st.sampled_from(
    [b"data: ", b"data:", b"data", b" ", b":", b"\n", b"\n\n", b"\r", b"\r\n", b"x", b"{}",
     b"\xef\xbb\xbf", b"event: e", b"id: 1", b"\xff"],
)  # fmt: skip
chunks = st.lists(pieces, max_size=8).map(b"".join)


def _read(chunks: list[Any]) -> tuple[DataReader, bytes]:
    handler = FakeHandler(reader=DataReader)
    exchange = make_exchange(handler=handler, stream=True)
    exchange.lookup_cache()
    exchange.admit()
    out = respond(exchange, 200, SSE_HEADERS, chunks)
    exchange.finish()
    reader = handler.the_reader
    assert isinstance(reader, DataReader)
    return reader, out


@settings(max_examples=300, deadline=None)
@given(chunk=chunks)
def test_after_an_event_the_direct_entry_takes_what_the_old_test_took(chunk: bytes) -> None:
    first = b"data: 0\n\n"  # read directly: the decoder is then between events
    reader, out = _read([first, chunk])
    assert out == first + chunk
    assert reader.direct[0] == b"0"
    taken = reader.direct[1:]
    assert taken == ([chunk[6:-2]] if old_test(chunk) else [])


@settings(max_examples=300, deadline=None)
@given(chunk=chunks, rest=chunks)
def test_a_first_chunk_goes_direct_only_as_the_old_test_would(chunk: bytes, rest: bytes) -> None:
    fed: list[bytes] = []
    feed = SSEDecoder.feed

    def counting(self: SSEDecoder, data: bytes) -> Any:
        fed.append(data)
        return feed(self, data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SSEDecoder, "feed", counting)
        reader, out = _read([chunk, rest] if chunk else [rest])
    as_bytearrays, _ = _read([bytearray(chunk), bytearray(rest)] if chunk else [bytearray(rest)])

    assert out == chunk + rest
    if chunk and old_test(chunk):
        assert reader.direct[:1] == [chunk[6:-2]]
        assert chunk not in fed
    elif chunk:
        assert fed[:1] == [chunk]  # the general path: a BOM, a comment, a cut event...
    events = [(e.event, e.data, e.id) for e in reader.events]
    assert [(e.event, e.data, e.id) for e in as_bytearrays.events] == events
