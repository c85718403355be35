"""A stream's first content chunk is read when a later one is, or at the end, not on arrival.

Through the real openai SDK over a mock transport (both httpx families): when the
caller holds its first chunk, tokenbudget has parsed nothing yet; the record is the
one an on-arrival reading gives, the first chunk's model and id included, also when
only the first chunk names them, when the first chunk is broken, and when usage
never comes (then every chunk is read, in order).
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker
from tokenbudget.providers.openai import OpenAIReader

from ..support import module, record_calls, sync_client

MESSAGES = [{"role": "user", "content": "Hi"}]


def _chunk(text: str | None, **head: Any) -> bytes:
    delta = {"content": text} if text is not None else {}
    body = {
        **head,
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None if text else "stop"}],
    }
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def _usage(**head: Any) -> bytes:
    body = {
        **head,
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": {"prompt_tokens": 8, "completion_tokens": 3, "total_tokens": 11},
    }
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def _client(tracker: TokenTracker, family: str, events: list[bytes]) -> openai.OpenAI:
    def handler(request: Any) -> Any:
        return module(family).Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(events)
        )

    return openai.OpenAI(api_key="sk-test", http_client=sync_client(tracker, family, handler))


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every chunk the OpenAI reader parses, in order."""
    return record_calls(monkeypatch, OpenAIReader, "_on_chunk", lambda _, chunk: chunk)


def test_nothing_is_parsed_before_the_caller_gets_its_first_chunk(
    family: str, parsed: list[Any]
) -> None:
    head = {"id": "c-1", "model": "gpt-4o-mini-2024-07-18"}
    events = [_chunk("Hel", **head), _chunk("lo", **head), _chunk(None, **head)]
    events += [_usage(**head), b"data: [DONE]\n\n"]
    tracker = TokenTracker()
    stream = _client(tracker, family, events).chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    first = next(iter(stream))
    assert first.choices[0].delta.content == "Hel"
    assert parsed == []  # the first chunk waits for a later one
    rest = list(stream)
    assert [c.choices[0].delta.content for c in rest[:1]] == ["lo"]
    # Read in order when the usage report came: the first chunk, then the report.
    assert [c.get("usage") is not None for c in parsed] == [False, True]
    record = tracker.last_record
    assert record is not None and record.usage.output_tokens == 3
    assert record.model == "gpt-4o-mini-2024-07-18" and record.response_id == "c-1"


def test_a_model_only_the_first_chunk_names_is_recorded(family: str) -> None:
    events = [
        _chunk("Hi", id="c-7", model="gpt-4o-mini-2024-07-18"),
        _chunk(None),
        _usage(),
        b"data: [DONE]\n\n",
    ]
    tracker = TokenTracker()
    client = _client(tracker, family, events)
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))  # type: ignore[arg-type]
    record = tracker.last_record
    assert record is not None and record.model == "gpt-4o-mini-2024-07-18"
    assert record.response_id == "c-7" and not record.estimated


def test_without_usage_every_chunk_is_read_in_order(family: str, parsed: list[Any]) -> None:
    head = {"id": "c-1", "model": "gpt-4o-mini-2024-07-18"}
    events = [_chunk("one", **head), _chunk(" two", **head), _chunk(None, **head)]
    events.append(b"data: [DONE]\n\n")
    tracker = TokenTracker()
    client = _client(tracker, family, events)
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))  # type: ignore[arg-type]
    texts = [c["choices"][0]["delta"].get("content") for c in parsed]
    assert texts == ["one", " two", None]
    record = tracker.last_record
    assert record is not None and record.estimated and record.usage.output_tokens == 2


def test_a_broken_first_chunk_stops_the_reading_as_on_arrival(family: str) -> None:
    head = {"id": "c-1", "model": "gpt-4o-mini-2024-07-18"}
    broken = b'data: {"choices":[{"index":0,"delta":{"content":"x"}}\n\n'  # cut JSON
    events = [broken, _chunk("y", **head), _usage(**head), b"data: [DONE]\n\n"]
    tracker = TokenTracker()

    def handler(request: Any) -> Any:
        return module(family).Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(events)
        )

    http = sync_client(tracker, family, handler)
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
    with http.stream("POST", "https://api.openai.com/v1/chat/completions", json=body) as answer:
        answer.read()
    record = tracker.last_record
    # Nothing after the broken chunk was read: the report is not taken, the call estimated.
    assert record is not None and record.estimated and record.response_id is None
