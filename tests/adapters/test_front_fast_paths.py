"""The front of a call (request to response head): each fast path against the one it bypasses.

- ``wanted_headers`` reads httpx's own (name, lower-case name, value) triples in one
  C-level pass; the general path scans the raw pairs (other header classes) or a
  plain mapping.
- ``loads`` calls the JSON scanner directly; the general path is ``json.loads``.
- ``request_view`` makes no body reader for a body in memory; a streamed body is
  read through ``request.read`` (sync) or ``content_of`` (async) as before.
- ``Exchange.body_overrides`` is made when first asked for.
- Through the real openai SDK, on both httpx families, sync and async: the record
  of a JSON call is the same on the fast paths and with them all turned off.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import hypothesis.strategies as st
import openai
import pytest
from hypothesis import HealthCheck, given, settings

from tokenbudget import CallRecord, TokenTracker
from tokenbudget._adapters import _transport as transport_module
from tokenbudget._adapters import get_family
from tokenbudget._adapters._transport import request_view
from tokenbudget._core import _headers as headers_module
from tokenbudget._core import loads
from tokenbudget._core._headers import wanted_headers

from ..core.fakes import make_exchange
from ..support import async_client, fixture_bytes, module, response, sync_client

FAMILIES = ("httpx", "httpx2")
_WANTED = ("content-type", "content-encoding", "x-request-id", "request-id")

_NAMES = st.one_of(
    st.sampled_from(
        [*_WANTED, "Content-Type", "X-Request-ID", "Request-Id", "CONTENT-ENCODING", "x-other"]
    ),
    st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12),
)
# Latin-1 text: httpx keeps it as the bytes it encodes to, and the core decodes them back.
_VALUES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"))


def _last_wanted(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """What the core should read: the last value of each wanted name, any case."""
    found: dict[str, str] = {}
    for name, value in pairs:
        if name.lower() in _WANTED:
            found[name.lower()] = value
    return found


@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(_NAMES, _VALUES), max_size=8))
def test_headers_read_from_triples_match_the_raw_pairs(
    family: str, pairs: list[tuple[str, str]]
) -> None:
    get_family(family)  # learns the family's header layout
    http = module(family)
    headers = http.Headers([(name, value.encode("latin-1")) for name, value in pairs])
    assert type(headers) in headers_module._TRIPLES  # the fast path is the one taken

    class OtherHeaders(http.Headers):  # type: ignore[misc,name-defined]
        """Not a learnt class: read through its raw pairs."""

    general = OtherHeaders(headers)
    assert type(general) not in headers_module._TRIPLES
    assert wanted_headers(headers) == wanted_headers(general) == _last_wanted(pairs)


def test_a_plain_mapping_is_read_by_lower_case_name() -> None:
    head = {"Content-Type": "application/json", "X-Request-ID": "r1", "Other": "x"}
    assert wanted_headers(head) == {"content-type": "application/json", "x-request-id": "r1"}


class _OddModule:
    """An httpx-like module whose headers keep no byte triples."""

    class URL:
        def __init__(self, url: str) -> None:
            self.url = url

    class Headers(dict):  # type: ignore[type-arg]
        pass


def test_headers_of_another_layout_are_not_learnt_as_triples() -> None:
    before = set(headers_module._TRIPLES)
    transport_module.learn_urls(_OddModule)
    assert before == headers_module._TRIPLES


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


def _outcome(parse: Any, data: bytes) -> tuple[str, Any]:
    try:
        return "ok", parse(data)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        return "error", type(error)


@settings(max_examples=300)
@given(
    document=_JSON,
    compact=st.booleans(),
    ascii_only=st.booleans(),
    before=st.sampled_from(["", " ", "\n", "\ufeff"]),
    after=st.sampled_from(["", " ", "\n", "x", "]", "}"]),
)
def test_the_scanner_reads_what_json_loads_reads(
    document: Any, compact: bool, ascii_only: bool, before: str, after: str
) -> None:
    separators = (",", ":") if compact else (", ", ": ")
    text = json.dumps(document, separators=separators, ensure_ascii=ascii_only)
    data = (before + text + after).encode("utf-8")
    assert _outcome(loads, data) == _outcome(json.loads, data)


@settings(max_examples=300)
@given(data=st.binary(max_size=24))
def test_the_scanner_reads_any_bytes_as_json_loads_does(data: bytes) -> None:
    assert _outcome(loads, data) == _outcome(json.loads, data)


def _chunks() -> Iterator[bytes]:
    yield b'{"model": '
    yield b'"gpt-4o"}'


@pytest.mark.parametrize("family", FAMILIES)
def test_a_body_in_memory_gets_no_reader_and_a_streamed_one_is_read_when_asked(
    family: str,
) -> None:
    get_family(family)
    http = module(family)
    url = "https://api.openai.com/v1/chat/completions"
    in_memory = http.Request("POST", url, content=b'{"model": "gpt-4o"}')
    view = request_view(in_memory)
    assert view._load_body is None
    assert view.json == {"model": "gpt-4o"}
    # The general way: a loader given by the caller, read when asked.
    given_reader = request_view(in_memory, in_memory.read)
    assert given_reader.json == view.json
    streamed = http.Request("POST", url, content=_chunks())
    assert request_view(streamed).json == {"model": "gpt-4o"}  # request.read()
    # An async view reads only a body in memory (a streamed upload reads as empty).
    assert request_view(in_memory, None, True).json == {"model": "gpt-4o"}
    assert request_view(http.Request("POST", url, content=_chunks()), None, True).body == b""


def test_body_overrides_are_made_when_first_asked_for() -> None:
    exchange = make_exchange()
    assert exchange.request_body() is None
    assert exchange._overrides is None  # a call without a budget never makes the dict
    overrides = exchange.body_overrides
    assert overrides == {} and exchange.body_overrides is overrides
    overrides["max_tokens"] = 3
    sent = exchange.request_body()
    assert sent is not None and json.loads(sent)["max_tokens"] == 3
    exchange.body_overrides = {"n": 1}
    sent = exchange.request_body()
    assert sent is not None and json.loads(sent)["n"] == 1 and "max_tokens" not in json.loads(sent)


# -- through the real SDK -------------------------------------------------------------------


def _answer(family: str) -> Any:
    def handler(request: Any) -> Any:
        return response(
            family,
            200,
            headers=[
                ("Content-Type", "application/json"),
                ("X-Request-ID", "req-first"),
                ("x-request-id", "req-last"),
                ("X-Other", "o"),
            ],
            content=fixture_bytes("openai/chat.json"),
        )

    return handler


def _call(family: str, is_async: bool) -> CallRecord:
    tracker = TokenTracker()
    if is_async:
        http = async_client(tracker, family, _answer(family))

        async def run() -> None:
            client = openai.AsyncOpenAI(api_key="k", http_client=http, max_retries=0)
            await client.chat.completions.create(model="gpt-4o", messages=[])

        asyncio.run(run())
    else:
        http = sync_client(tracker, family, _answer(family))
        client = openai.OpenAI(api_key="k", http_client=http, max_retries=0)
        client.chat.completions.create(model="gpt-4o", messages=[])
    (record,) = tracker.records
    return record


def _essentials(record: CallRecord) -> tuple[Any, ...]:
    return (
        record.provider,
        record.model,
        record.request_model,
        record.endpoint,
        record.usage,
        record.cost_usd,
        record.request_id,
        record.succeeded,
    )


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("is_async", [False, True])
def test_an_sdk_json_call_records_the_same_on_the_fast_and_the_general_paths(
    family: str, is_async: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _call(family, is_async)
    assert fast.request_id == "req-last" and fast.usage.input_tokens > 0
    monkeypatch.setattr(headers_module, "_TRIPLES", set())
    monkeypatch.setattr(transport_module, "_PARSED_URLS", set())
    general = _call(family, is_async)
    assert _essentials(fast) == _essentials(general)
