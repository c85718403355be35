"""Open-ended properties of the exchange, checked by hypothesis over many inputs."""

from __future__ import annotations

import gzip
import json

import pytest

from tokenbudget import Usage

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
