"""The request side's fast paths, each against the general path it bypasses.

- ``request_view`` reads httpx's parsed URL fields directly (httpx 0.24+, httpx2);
  the general path reads the URL's public properties.
- ``_with_body`` copies the caller's request field by field with a new body and
  ``Content-Length``; the general path builds a new ``Request``.
- ``SENDING`` is set only above an inner transport that may hold another tracker.
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis.strategies as st
import openai
import pytest
from hypothesis import HealthCheck, given, settings

from tokenbudget import TokenTracker
from tokenbudget._adapters import _transport as transport_module
from tokenbudget._adapters import get_family
from tokenbudget._adapters._transport import request_view
from tokenbudget._core import SENDING

from ..support import fixture_bytes, mock_transport, module, response, sync_client

FAMILIES = ("httpx", "httpx2")

_LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).filter(
    lambda label: not label.startswith("-") and not label.endswith("-")
)
_HOSTS = st.one_of(
    st.lists(_LABEL, min_size=1, max_size=3).map(".".join),
    st.sampled_from(
        ["API.OpenAI.com", "xn--fiqs8s.icom.museum", "中国.icom.museum", "127.0.0.1", "[::1]"]
    ),
)
_SEGMENT = st.text(
    st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="/?#\x7f"), max_size=10
)


def _general_view(request: Any) -> tuple[Any, ...]:
    url = request.url
    return (request.method, url.host.lower(), url.path, url.port, url.query.decode("ascii"))


def _fields(view: Any) -> tuple[Any, ...]:
    return (view.method, view.host, view.path, view.port, view.query)


@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scheme=st.sampled_from(["http", "https"]),
    host=_HOSTS,
    port=st.one_of(st.none(), st.sampled_from([80, 443, 8000, 65535])),
    segments=st.lists(_SEGMENT, max_size=4),
    query=st.dictionaries(_LABEL, _SEGMENT, max_size=3),
)
def test_request_view_reads_what_the_url_properties_say(
    family: str, scheme: str, host: str, port: int | None, segments: list[str], query: Any
) -> None:
    get_family(family)  # learns the family's URL layout
    http = module(family)
    netloc = host if port is None else f"{host}:{port}"
    url = http.URL(f"{scheme}://{netloc}/" + "/".join(segments), params=query)
    request = http.Request("post", url, content=b"{}")
    fast = request_view(request, request.read)
    assert _fields(fast) == _general_view(request)
    assert fast.headers is request.headers and fast.body == b"{}"


@pytest.mark.parametrize("family", FAMILIES)
def test_request_view_without_known_url_fields_reads_the_properties(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    get_family(family)
    monkeypatch.setattr(transport_module, "_PARSED_URLS", set())
    http = module(family)
    request = http.Request("POST", "https://API.openai.com:8443/v1/a%20b?x=1", content=b"{}")
    assert _fields(request_view(request, request.read)) == (
        "POST",
        "api.openai.com",
        "/v1/a b",
        8443,
        "x=1",
    )


_HEADER_NAMES = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10)


@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    headers=st.lists(
        st.tuples(
            st.one_of(_HEADER_NAMES, st.sampled_from(["Content-Length", "content-length"])),
            st.text("abcdefghijklmnopqrstuvwxyz0123456789 ", max_size=8),
        ),
        max_size=6,
    ),
    body=st.binary(max_size=40),
    new_body=st.binary(max_size=60),
)
def test_a_new_body_goes_on_a_copy_as_a_rebuilt_request_would_send_it(
    family: str, headers: list[tuple[str, str]], body: bytes, new_body: bytes
) -> None:
    fam = get_family(family)
    assert fam.Transport._copyable
    http = module(family)
    request = http.Request(
        "POST", "https://api.openai.com/v1/chat/completions", headers=headers, content=body
    )
    request.extensions["mine"] = 1
    before = (list(request.headers.raw), request.content, dict(request.extensions))
    fast_transport = fam.Transport(TokenTracker(), http.MockTransport(lambda r: None))
    general = fam.Transport(TokenTracker(), http.MockTransport(lambda r: None))
    general._copyable = False
    fast, slow = fast_transport._with_body(request, new_body), general._with_body(request, new_body)
    assert list(fast.headers.raw) == list(slow.headers.raw)
    assert fast.content == slow.content == new_body
    assert b"".join(fast.stream) == new_body
    assert (fast.method, fast.url, fast.extensions) == (slow.method, slow.url, slow.extensions)
    # The caller's request is left as it was (an SDK sends it again on a retry).
    fast.extensions["sent"] = True
    assert (list(request.headers.raw), request.content, dict(request.extensions)) == before


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("copyable", [True, False])
@pytest.mark.parametrize("unread", [True, False])
def test_the_sdk_stream_request_gets_usage_asked_for_on_both_paths(
    family: str, copyable: bool, unread: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways of sending the new body, and both ways of answering: an unread response
    (a network one) loses its length header in place, a read one is built anew."""
    fam = get_family(family)
    monkeypatch.setattr(fam.Transport, "_copyable", copyable)
    tracker = TokenTracker()
    seen: list[Any] = []

    sse = fixture_bytes("openai/chat_stream.sse")

    def handler(request: Any) -> Any:
        seen.append(request)
        return response(
            family,
            200,
            headers=[
                ("content-type", "text/event-stream"),
                ("Content-Length", str(len(sse))),
                ("x-request-id", "req-1"),
            ],
            content=iter([sse]) if unread else sse,
        )

    client = openai.OpenAI(
        api_key="sk-test", http_client=sync_client(tracker, family, handler), max_retries=0
    )
    if family == "httpx" and not isinstance(client._client, module("httpx").Client):
        pytest.skip("this openai release takes httpx2 clients only")
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    chunks = list(stream)
    assert stream.response.headers.raw == [
        (b"content-type", b"text/event-stream"),
        (b"x-request-id", b"req-1"),
    ]
    sent = seen[0]
    assert json.loads(sent.content)["stream_options"] == {"include_usage": True}
    assert sent.headers["content-length"] == str(len(sent.content))
    assert chunks and tracker.records[-1].usage.input_tokens > 0


@pytest.mark.parametrize("family", FAMILIES)
def test_sending_is_announced_only_where_a_tracker_may_be_beneath(family: str) -> None:
    seen: list[Any] = []

    def handler(request: Any) -> Any:
        seen.append(SENDING.get())
        return response(family, 200, json={"data": []})

    outer, inner = TokenTracker(), TokenTracker()
    fam = get_family(family)
    body = {"model": "gpt-4o", "messages": []}
    url = "https://api.openai.com/v1/chat/completions"

    # Over the family's mock transport (a leaf: its handler plays the server).
    leaf = outer.transport(mock_transport(family, handler))
    module(family).Client(transport=leaf).post(url, json=body)
    assert seen == [None]

    # Over another tracking transport: that one's tracker sees the call being sent
    # (and the handler too: the innermost tracker, above a leaf, sets nothing of its own).
    seen.clear()
    nested = outer.transport(inner.transport(mock_transport(family, handler)))
    module(family).Client(transport=nested).post(url, json=body)
    assert [exchange.owner for exchange in seen] == [outer]
    assert nested._announce and not nested.inner._announce

    # A tracker put beneath later (``inner`` set anew) is announced to as well.
    leaf.inner = fam.Transport(inner, mock_transport(family, handler))
    assert leaf._announce
    assert outer.usage.calls == 2 and inner.usage.calls == 1
