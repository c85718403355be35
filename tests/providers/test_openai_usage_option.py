"""Asking a chat stream for usage: the body written in place is the document a re-encoding gives.

When the caller's body has no ``stream_options``, the OpenAI provider writes
``"stream_options":{"include_usage":true}`` into the body's bytes instead of
parsing and re-encoding it. Whatever the body (any members, any spacing, any
escaping, another encoding), the server must get the same JSON document, key
order included, as the parse-and-encode rewrite gives.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import hypothesis.strategies as st
from hypothesis import given

from tokenbudget.providers import OpenAIProvider, RequestView

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_keys = st.sampled_from(
    ["model", "messages", "stream_options", "include_usage", "usage", "}", '"', "é", "\\"]
) | st.text(max_size=6)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=8,
)
_options = (
    st.none()
    | st.booleans()
    | st.dictionaries(
        st.sampled_from(["include_usage", "other"]), _scalars | st.just(True), max_size=2
    )
)


@st.composite
def _bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A chat stream request body: arbitrary members, ``stream`` somewhere, maybe options."""
    members = draw(st.lists(st.tuples(_keys, _values), max_size=5))
    at = draw(st.integers(min_value=0, max_value=len(members)))
    members.insert(at, ("stream", True))
    if draw(st.booleans()):
        members.insert(draw(st.integers(0, len(members))), ("stream_options", draw(_options)))
    body = dict(members)
    body["stream"] = True  # a later member of the same name must not undo it
    return body


@st.composite
def _encodings(draw: st.DrawFn, body: dict[str, Any]) -> bytes:
    """``body`` as some client might write it: spacing, escaping, indentation, encoding."""
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]))
    text = json.dumps(
        body,
        ensure_ascii=draw(st.booleans()),
        indent=draw(st.none() | st.integers(0, 2)),
        separators=separators,
    )
    blanks = st.text(alphabet=" \t\r\n", max_size=3)
    text = draw(blanks) + text + draw(blanks)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-32-le"]))
    return text.encode(encoding)  # utf-8-sig: with a BOM


def _re_encoded(body: Mapping[str, Any]) -> Any:
    """What the parse-and-encode rewrite sends: the body, options merged in, or nothing."""
    options = body.get("stream_options")
    if isinstance(options, Mapping) and options.get("include_usage") is True:
        return None
    changed = dict(body)
    merged = dict(options) if isinstance(options, Mapping) else {}
    changed["stream_options"] = {**merged, "include_usage": True}
    return changed


def _prepare(raw: bytes) -> bytes | None:
    provider = OpenAIProvider()
    view = RequestView("POST", "api.openai.com", "/v1/chat/completions", body=raw)
    endpoint = provider.match(view)
    assert endpoint is not None and endpoint.stream
    return provider.prepare(endpoint, view)


@given(st.data())
def test_the_body_sent_is_the_re_encoded_document(data: st.DataObject) -> None:
    body = data.draw(_bodies())
    raw = data.draw(_encodings(body))
    sent = _prepare(raw)
    expected = _re_encoded(json.loads(raw))
    if expected is None:
        assert sent is None
        return
    assert sent is not None
    # Key order included: the documents' canonical-free encodings are equal.
    assert json.dumps(json.loads(sent)) == json.dumps(expected)


def test_a_compact_body_is_written_in_place() -> None:
    raw = b'{"model":"gpt-4o","messages":[],"stream":true}'
    assert _prepare(raw) == raw[:-1] + b',"stream_options":{"include_usage":true}}'


def test_spacing_around_the_body_is_kept() -> None:
    raw = b' \n{ "stream" : true }\r\n'
    assert _prepare(raw) == b' \n{ "stream" : true ,"stream_options":{"include_usage":true}}\r\n'


def test_a_body_with_options_is_re_encoded() -> None:
    raw = b'{"stream":true,"stream_options":{"x":1}}'
    sent = _prepare(raw)
    assert sent is not None
    assert json.loads(sent) == {"stream": True, "stream_options": {"x": 1, "include_usage": True}}


def test_an_escaped_options_key_counts_as_options() -> None:
    raw = b'{"stream":true,"stream\\u005foptions":{"include_usage":true}}'
    assert _prepare(raw) is None  # the caller asked already: nothing to add, nothing to hide


def test_a_body_in_another_encoding_is_re_encoded() -> None:
    raw = json.dumps({"stream": True, "model": "gpt-4o"}).encode("utf-16")
    sent = _prepare(raw)
    assert sent is not None
    assert json.loads(sent) == {
        "stream": True,
        "model": "gpt-4o",
        "stream_options": {"include_usage": True},
    }
