"""Hiding the injected ``"usage": null`` from each chat chunk: read from the chunk's end.

The filter finds the top-level ``usage`` from the end of the chunk (OpenAI writes
it last) and cuts it there. For any chunk, whatever its members and spacing, the
caller must get the chunk the host would have sent without ``include_usage``:
the same document, minus that one member, key order kept (a ``"usage": null``
nested deeper stays: it is the host's own). A single-event chunk
decoded by the SSE decoder's fast path must give the event the general path
gives for the same bytes fed in pieces.
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis.strategies as st
from hypothesis import given

from tokenbudget._core import ServerSentEvent, SSEDecoder
from tokenbudget.providers.openai import hide_injected_usage

_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=6)
_keys = st.sampled_from(["id", "model", "choices", "delta", "content", "usage", "finish_reason"])
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=6,
)
_separators = st.sampled_from([(",", ":"), (", ", ": ")])


def _event(document: dict[str, Any], separators: tuple[str, str]) -> ServerSentEvent:
    data = json.dumps(document, separators=separators, ensure_ascii=False)
    return ServerSentEvent(data=data, raw=b"data: " + data.encode() + b"\n\n")


@given(st.dictionaries(_keys.filter(lambda k: k != "usage"), _values, max_size=4), _separators)
def test_the_usage_null_member_is_cut_and_nothing_else(
    members: dict[str, Any], separators: tuple[str, str]
) -> None:
    document = {"id": "chatcmpl-1", **members, "usage": None}
    shown = hide_injected_usage(_event(document, separators))
    assert shown.startswith(b"data: ") and shown.endswith(b"\n\n")
    expected = {key: value for key, value in document.items() if key != "usage"}
    assert json.dumps(json.loads(shown[6:-2])) == json.dumps(expected)


def test_a_usage_report_chunk_is_dropped() -> None:
    document = {"id": "c", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}
    assert hide_injected_usage(_event(document, (",", ":"))) == b""


@given(st.binary(max_size=40).filter(lambda b: b"\n" not in b and b"\r" not in b), st.data())
def test_a_single_event_chunk_decodes_as_its_pieces_do(value: bytes, data: st.DataObject) -> None:
    chunk = b"data:" + value + b"\n\n"
    whole = SSEDecoder(keep_raw=True)
    whole.feed(b": warm-up\n\n")  # past the stream's start: the fast path applies
    pieces = SSEDecoder(keep_raw=True)
    pieces.feed(b": warm-up\n\n")
    cut = data.draw(st.integers(min_value=1, max_value=len(chunk) - 1))
    fed = pieces.feed(chunk[:cut]) + pieces.feed(chunk[cut:])
    assert whole.feed(chunk) == fed
