"""The OpenAI JSON fast path reads what a full parse would, or steps aside."""

from __future__ import annotations

import json

import pytest

from tokenbudget.providers.openai._scan import scan_body

from ..support import fixture_bytes

FIXTURES = [
    "chat",
    "chat_cached_reasoning",
    "chat_audio",
    "azure_chat",
    "completions",
    "embeddings",
    "responses",
]


@pytest.mark.parametrize("name", FIXTURES)
def test_scan_agrees_with_a_full_parse(name: str) -> None:
    body = fixture_bytes(f"openai/{name}.json")
    document = json.loads(body)
    found = scan_body(body)
    assert found is not None
    assert found["usage"] == document["usage"]
    assert found["model"] == document["model"]
    assert found.get("id") == document.get("id")
    assert found.get("service_tier") == document.get("service_tier")


@pytest.mark.parametrize(
    "document",
    [
        # quotes inside strings are escaped: these are not keys
        {"id": "r", "model": "m", "output": 'say "usage": {"input_tokens": 1}', "usage": None},
        # metadata (strings only at OpenAI) may hold a "usage" key after the real usage
        {"id": "r", "model": "m", "usage": {"input_tokens": 5}, "metadata": {"usage": "x"}},
        {"id": "r", "model": {"nested": True}, "usage": {"input_tokens": 5}},
        {"id": 7, "model": "m", "usage": {"input_tokens": 5}},
        {"model": "m"},
        {"id": "r", "model": "m", "usage": {"total": 5}},
    ],
)
def test_scan_steps_aside_when_unsure(document: dict[str, object]) -> None:
    assert scan_body(json.dumps(document).encode()) is None


def test_scan_reads_pretty_printed_bodies() -> None:
    document = {"id": "x", "model": "gpt-4o", "usage": {"prompt_tokens": 3}}
    assert scan_body(json.dumps(document, indent=2).encode()) == document


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "pretty"])
@pytest.mark.parametrize(
    "head",
    [
        {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o"},
        # escapes or an unexpected field order: read by the general path, same answer
        {"id": 'chat"cmpl', "object": "chat.completion", "created": 1, "model": "gpt-4o"},
        {"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-\u00e9"},
        {"id": "c", "object": "chat.completion", "model": "gpt-4o", "created": 1},
    ],
    ids=["chat", "escaped-id", "non-ascii-model", "order"],
)
def test_a_chat_head_is_read_like_a_full_parse(head: dict[str, object], indent: int | None) -> None:
    document = {**head, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
    found = scan_body(json.dumps(document, indent=indent, ensure_ascii=False).encode())
    assert found is not None
    assert (found["id"], found["model"]) == (document["id"], document["model"])
