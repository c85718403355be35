"""The stream's per-chunk forms decide exactly what the forms they replaced decided.

``OpenAIReader.on_data`` reads its chunk's text with ``str`` membership, and
``hide_usage_data`` cuts the usual tail with ``removesuffix`` (both cheaper on
CPython 3.11 than the bytes ``find``/``endswith`` they replaced). Here the forms
they replaced, kept as oracles, read the same arbitrary chunks (any keys, n > 1
choices, errors, usage anywhere, spaced or compact, invalid UTF-8) and must leave
the same observation, put off the same chunks and give the caller the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import pytest

from tokenbudget._core import Endpoint, Observation, ServerSentEvent
from tokenbudget.providers import OpenAIProvider
from tokenbudget.providers._base import DEFER_LIMIT
from tokenbudget.providers.compatible import CompatibleProvider, GroqProvider
from tokenbudget.providers.openai import OpenAIReader
from tokenbudget.providers.openai._stream import hide_usage_data

pytest.importorskip("hypothesis", reason="the property tests need hypothesis (dev extra)")

from hypothesis import given, settings
from hypothesis import strategies as st


def _loads(data: bytes) -> Any:
    return json.loads(data.decode("utf-8", "replace"))


def old_on_data(reader: OpenAIReader, data: bytes) -> None:
    """``OpenAIReader.on_data`` as it was: bytes ``find``, the bytes put off."""
    if data[:1] != b"{":
        if data == b"[DONE]":
            reader.observation.complete = True
        return
    if reader._responses:
        reader._on_responses_event(_loads(data))
        return
    find = data.find
    if find(b'"finish_reason":"') >= 0 or find(b'"finish_reason": "') >= 0:
        reader.observation.final = True
    if (
        reader._deferred_size < DEFER_LIMIT
        and reader.observation.model is not None
        and find(b'"usage":{') < 0
        and find(b'"usage": {') < 0
        and find(b'"error"') < 0
    ):
        reader._deferred.append(data)
        reader._deferred_size += len(data)
    else:
        reader._on_chunk(_loads(data))


_USAGE_NULL = re.compile(rb',\s*"usage"\s*:\s*null|"usage"\s*:\s*null\s*,?')


def old_hide(raw: bytes, data: bytes) -> bytes:
    """``hide_usage_data`` as it was: ``endswith`` for the usual tails."""
    if raw.endswith(b',"usage":null}\n\n'):
        return raw[:-16] + b"}\n\n"
    if raw.endswith(b', "usage": null}\n\n'):
        return raw[:-18] + b"}\n\n"
    at = raw.rfind(b'"usage":')
    if at > 0:
        if raw[at - 1] == 0x2C and raw[at + 8 : at + 12] == b"null":
            return raw[: at - 1] + raw[at + 12 :]
        if raw[at - 2 : at] == b", " and raw[at + 8 : at + 13] == b" null":
            return raw[: at - 2] + raw[at + 13 :]
    if raw.find(b'"usage"') < 0:
        return raw
    if _USAGE_NULL.search(raw):
        return _USAGE_NULL.sub(b"", raw, count=1)
    document = json.loads(data.decode("utf-8", "replace")) if data.startswith(b"{") else None
    if isinstance(document, dict) and document.get("choices") == [] and document.get("usage"):
        return b""
    return raw


usages = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"prompt_tokens": st.integers(0, 99), "completion_tokens": st.integers(0, 99)}
    ),
)
choices = st.fixed_dictionaries(
    {
        "index": st.integers(0, 3),
        "delta": st.fixed_dictionaries(
            {}, optional={"content": st.text(max_size=6), "role": st.just("assistant")}
        ),
        "finish_reason": st.sampled_from([None, "stop", "length"]),
    }
)
chunks = st.fixed_dictionaries(
    {},
    optional={
        "id": st.just("c-1"),
        "model": st.sampled_from(["gpt-4o-mini", "gpt-4o-search-preview"]),
        "choices": st.lists(choices, max_size=3),
        "usage": usages,
        "error": st.one_of(st.none(), st.fixed_dictionaries({"message": st.text(max_size=4)})),
        "x_groq": st.fixed_dictionaries({}, optional={"id": st.just("r"), "usage": usages}),
    },
)


@st.composite
def datas(draw: st.DrawFn) -> bytes:
    """A chunk's data: JSON of any layout, or bytes around the keys the reader looks for."""
    if draw(st.booleans()):
        spaced = draw(st.booleans())
        separators = (", ", ": ") if spaced else (",", ":")
        text = json.dumps(draw(chunks), separators=separators, ensure_ascii=draw(st.booleans()))
        return text.encode()
    parts = st.sampled_from(
        [b"{", b"}", b'"finish_reason":', b'"finish_reason": ', b'"stop"', b"null", b'"usage":',
         b'"usage": ', b"{}", b'"error"', b"\xff", b"\xe2\x82", b"\xed\xa0\x80", "é".encode(),
         b"[DONE]", b",", b'"model":"m"'],
    )  # fmt: skip
    return b"".join(draw(st.lists(parts, max_size=10)))


def _reader(provider: Any, watched: bool) -> OpenAIReader:
    endpoint = Endpoint(provider.name, "chat", provider, request_model="gpt-4o", stream=True)
    endpoint.watch_output = watched
    reader = provider.reader(endpoint)
    assert isinstance(reader, OpenAIReader)
    return reader


def _state(reader: OpenAIReader) -> tuple[Any, ...]:
    obs = reader.observation
    return (
        obs.usage,
        obs.model,
        obs.response_id,
        obs.error,
        obs.complete,
        obs.final,
        list(obs.output_text),
        list(reader._deferred),
        reader._deferred_size,
    )


def _outcome(reader: OpenAIReader, feed: Any, items: list[bytes]) -> Any:
    """What the call is recorded from: each chunk fed as the observer feeds it (a reader
    that raises is fed nothing more), then the reader's result, as the record reads it.

    Only the result is compared: the stream's first content chunk is read when a later
    chunk is or at the end, not on arrival (``OpenAIReader._read_head``).
    """
    for data in items:
        try:
            feed(reader, data)
        except Exception:  # the observer stops reading this response
            break
    else:
        with contextlib.suppress(Exception):  # the observer's, at the end
            reader.catch_up()
    try:
        final = reader.result()
    except Exception:  # the observer records the call from an empty observation
        final = Observation()
    return (
        final.usage,
        final.model,
        final.response_id,
        final.service_tier,
        final.raw_usage,
        final.error,
        final.complete,
        list(final.output_text),
    )


@settings(max_examples=400, deadline=None)
@given(
    items=st.lists(datas(), max_size=8),
    provider=st.sampled_from([OpenAIProvider(), CompatibleProvider("host"), GroqProvider()]),
    watched=st.booleans(),
)
def test_on_data_decides_what_the_bytes_finds_decided(
    items: list[bytes], provider: Any, watched: bool
) -> None:
    new = _outcome(_reader(provider, watched), type(_reader(provider, watched)).on_data, items)
    old = _outcome(_reader(provider, watched), old_on_data, items)
    assert new == old


def test_on_data_and_on_event_read_alike() -> None:
    data = b'{"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}'
    by_data, by_event = _reader(OpenAIProvider(), False), _reader(OpenAIProvider(), False)
    by_data.on_data(data)
    by_event.on_event(ServerSentEvent(data=data.decode()))
    assert _state(by_data) == _state(by_event)
    assert by_data.observation.final


@st.composite
def events(draw: st.DrawFn) -> tuple[bytes, bytes]:
    data = draw(datas())
    tail = draw(
        st.sampled_from(
            [b"", b',"usage":null}', b', "usage": null}', b',"usage":null', b'"usage":null}']
        )
    )
    data += tail
    return b"data: " + data + b"\n\n", data


@settings(max_examples=400, deadline=None)
@given(event=events())
def test_the_filter_cuts_what_endswith_cut(event: tuple[bytes, bytes]) -> None:
    raw, data = event
    try:
        old: Any = old_hide(raw, data)
    except ValueError as error:
        old = type(error)
    try:
        new: Any = hide_usage_data(raw, data)
    except ValueError as error:
        new = type(error)
    assert new == old
