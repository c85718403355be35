"""A whole JSON answer is parsed once, for tokenbudget and the caller alike (``_shared_json``).

The caller's first ``response.json()`` gets the document tokenbudget parsed to read the
usage; any later call, or one with arguments, parses the body again as httpx does. Where
that cannot be exact (a family whose ``json()`` decodes the text by its charset, a reader
that reads the body its own way, a stream, an error answer, a body left unread) the
answer is parsed as before.
"""

from __future__ import annotations

import asyncio
import json
import marshal
import pickle
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

import anthropic
import openai
import pytest

from tokenbudget import TokenTracker, Usage
from tokenbudget._adapters._shared_json import SharedJson, StoredJson, json_reads_content
from tokenbudget.providers.openai import OpenAIProvider, OpenAIReader

from ..support import (
    async_client,
    fixture_bytes,
    json_answer,
    module,
    record_calls,
    sync_client,
)

CHAT = fixture_bytes("openai/chat.json")
CHAT_URL = "https://api.openai.com/v1/chat/completions"
CHAT_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every body ``json.loads`` parses (httpx's ``Response.json`` calls it)."""
    yield record_calls(monkeypatch, json, "loads", lambda data, **_: _as_bytes(data))


def _as_bytes(data: Any) -> bytes:
    return data if isinstance(data, bytes) else str(data).encode()


def _openai(tracker: TokenTracker | None, family: str, handler: Any) -> openai.OpenAI:
    http = (
        sync_client(tracker, family, handler)
        if tracker is not None
        else module(family).Client(transport=module(family).MockTransport(handler))
    )
    return openai.OpenAI(api_key="sk-test", http_client=http)


def test_the_sdk_gets_the_document_tokenbudget_parsed(family: str, parses: list[bytes]) -> None:
    plain = _openai(None, family, json_answer(family))
    plain.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert parses.count(CHAT) == 1  # the SDK's own parse, untracked

    parses.clear()
    tracker = TokenTracker()
    client = _openai(tracker, family, json_answer(family))
    result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert parses.count(CHAT) == 0  # read once, by tokenbudget's scanner, for both
    assert result.usage is not None and result.usage.total_tokens == 29
    assert result.choices[0].message.content == "Hello! How can I assist you today?"
    record = tracker.last_record
    assert record is not None and record.usage == Usage(input_tokens=19, output_tokens=10)
    assert record.model == "gpt-4o-2024-08-06" and record.cost_usd == Decimal("0.0001475")


def test_async_sdk_calls_share_the_document_too(family: str, parses: list[bytes]) -> None:
    tracker = TokenTracker()
    http = async_client(tracker, family, json_answer(family))
    client = openai.AsyncOpenAI(api_key="sk-test", http_client=http)
    result = asyncio.run(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))  # type: ignore[arg-type]
    assert parses.count(CHAT) == 0
    assert result.usage is not None and result.usage.prompt_tokens == 19
    assert tracker.usage.calls == 1


def test_anthropic_answers_are_shared(parses: list[bytes]) -> None:
    body = fixture_bytes("anthropic/messages.json")

    def handler(request: Any) -> Any:
        return module("httpx2").Response(
            200, headers={"content-type": "application/json"}, content=body
        )

    tracker = TokenTracker()
    client = anthropic.Anthropic(
        api_key="sk-test", http_client=sync_client(tracker, "httpx2", handler)
    )
    result = client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES)  # type: ignore[arg-type]
    assert parses.count(body) == 0
    record = tracker.last_record
    assert record is not None and record.usage.output_tokens == result.usage.output_tokens


def test_only_the_first_plain_call_gets_the_shared_document(family: str) -> None:
    tracker = TokenTracker()
    client = sync_client(tracker, family, json_answer(family))
    result = client.post(CHAT_URL, json=CHAT_BODY)
    assert isinstance(vars(result)["json"], SharedJson)
    first = result.json()
    second = result.json()
    assert first == second == json.loads(CHAT) and first is not second
    first["usage"]["prompt_tokens"] = 0  # the caller's own, as ever
    assert result.json()["usage"]["prompt_tokens"] == 19
    # Arguments are honoured, as the response's own json() honours them.
    assert result.json(parse_int=Decimal)["usage"]["total_tokens"] == Decimal(29)
    assert tracker.usage.calls == 1 and tracker.usage.total_tokens == 29


def test_arguments_on_the_first_call_parse_the_body_anew(family: str) -> None:
    tracker = TokenTracker()
    client = sync_client(tracker, family, json_answer(family))
    result = client.post(CHAT_URL, json=CHAT_BODY)
    assert type(result.json(parse_int=str)["usage"]["total_tokens"]) is str
    assert result.json()["usage"]["total_tokens"] == 29


def test_a_response_with_its_document_still_pickles(family: str) -> None:
    tracker = TokenTracker()
    client = sync_client(tracker, family, json_answer(family))
    result = client.post(CHAT_URL, json=CHAT_BODY)
    copy = pickle.loads(pickle.dumps(result))
    assert copy.json() == result.json() == json.loads(CHAT)
    assert copy.content == CHAT


# -- where the body is parsed as before --------------------------------------------------------


class _OwnReader(OpenAIReader):
    """Reads a body its own way: the observer must hand it the bytes."""

    bodies: ClassVar[list[bytes]] = []

    def on_body(self, body: bytes) -> None:
        self.bodies.append(body)
        super().on_body(body)


class _OwnProvider(OpenAIProvider):
    def reader(self, endpoint: Any) -> OpenAIReader:
        return _OwnReader(endpoint, self.normalise)


def test_a_reader_with_its_own_body_reading_gets_the_bytes(family: str) -> None:
    tracker = TokenTracker()
    tracker.register_host("api.openai.com", _OwnProvider("openai"))
    _OwnReader.bodies.clear()
    result = sync_client(tracker, family, json_answer(family)).post(CHAT_URL, json=CHAT_BODY)
    assert _OwnReader.bodies == [CHAT]
    assert "json" not in vars(result)
    assert result.json()["usage"]["total_tokens"] == 29
    assert tracker.usage.total_tokens == 29


def test_error_answers_and_streams_are_not_shared(family: str) -> None:
    tracker = TokenTracker()

    def failing(request: Any) -> Any:
        return module(family).Response(
            429, headers={"content-type": "application/json"}, content=b'{"error": {}}'
        )

    result = sync_client(tracker, family, failing).post(CHAT_URL, json=CHAT_BODY)
    assert "json" not in vars(result) and result.json() == {"error": {}}

    def streaming(request: Any) -> Any:
        return module(family).Response(
            200, headers={"content-type": "text/event-stream"}, content=b"data: [DONE]\n\n"
        )

    body = {**CHAT_BODY, "stream": True}
    result = sync_client(tracker, family, streaming).post(CHAT_URL, json=body)
    assert "json" not in vars(result)


def test_a_body_closed_before_its_end_is_not_shared(family: str) -> None:
    tracker = TokenTracker()
    client = sync_client(tracker, family, json_answer(family))
    with client.stream("POST", CHAT_URL, json=CHAT_BODY) as result:
        pass  # closed unread
    assert "json" not in vars(result)
    assert tracker.usage.calls == 1


def test_a_family_whose_json_reads_the_text_by_its_charset_does_not_share() -> None:
    class TextResponse:
        def __init__(self, status: int, headers: dict[str, str], content: bytes) -> None:
            charset = headers["content-type"].partition("charset=")[2]
            self.text = content.decode(charset or "utf-8")

        def json(self) -> Any:
            return json.loads(self.text)

    class BrokenResponse:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise TypeError("another signature")

    class TextModule:
        Response = TextResponse

    class BrokenModule:
        Response = BrokenResponse

    assert not json_reads_content(TextModule)
    assert not json_reads_content(BrokenModule)
    assert json_reads_content(module("httpx2"))


def test_the_shared_json_pickles_on_its_own() -> None:
    shared = SharedJson({"a": [1]}, b'{"a": [1]}')
    copy = pickle.loads(pickle.dumps(shared))
    assert copy() == {"a": [1]} and copy() == {"a": [1]}
    assert shared() == {"a": [1]}


# -- cache hits -------------------------------------------------------------------------------


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_a_hit_hands_the_sdk_a_fresh_document_it_need_not_parse(
    family: str, cache: str, parses: list[bytes], tmp_path: Any
) -> None:
    tracker = TokenTracker(cache=cache, cache_dir=str(tmp_path) if cache == "disk" else None)
    client = _openai(tracker, family, json_answer(family))
    first = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    raws = []
    for _ in range(2):
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
        assert raw.parse() == first
        raws.append(raw.http_response)
    assert parses.count(CHAT) == 0  # neither the call nor its hits parsed it twice
    assert tracker.cache_stats.hits == 2 and tracker.usage.cached_calls == 2
    kind = StoredJson if cache == "memory" else SharedJson
    assert all(isinstance(vars(response)["json"], kind) for response in raws)
    # Each hit's document is its own: changing one changes no other, nor the cache.
    mine = raws[0].json()
    mine["usage"]["prompt_tokens"] = 0
    assert raws[1].json()["usage"]["prompt_tokens"] == 19
    again = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert again.usage is not None and again.usage.prompt_tokens == 19
    copy = pickle.loads(pickle.dumps(raws[1]))
    assert copy.json() == json.loads(CHAT)


def test_a_stored_json_honours_arguments_and_pickles() -> None:
    body = b'{"a": [1, 2.5, "x"], "b": null}'
    stored = StoredJson(marshal.dumps(json.loads(body)), body)
    copy = pickle.loads(pickle.dumps(stored))
    assert stored(parse_float=Decimal) == {"a": [1, Decimal("2.5"), "x"], "b": None}
    assert stored() == copy() == json.loads(body)
    assert stored() == json.loads(body)  # later calls parse the body


def test_a_response_class_with_its_own_json_keeps_it(family: str) -> None:
    base = module(family).Response

    class Decorated(base):  # type: ignore[misc, valid-type]
        def json(self, **kwargs: Any) -> Any:
            return {"decorated": super().json(**kwargs)}

    def handler(request: Any) -> Any:
        return Decorated(200, headers={"content-type": "application/json"}, stream=_Stream())

    class _Stream(module(family).SyncByteStream):  # type: ignore[misc, name-defined]
        def __iter__(self) -> Iterator[bytes]:
            yield CHAT

    tracker = TokenTracker()
    result = sync_client(tracker, family, handler).post(CHAT_URL, json=CHAT_BODY)
    assert "json" not in vars(result)
    assert result.json() == {"decorated": json.loads(CHAT)}
    assert tracker.usage.total_tokens == 29
