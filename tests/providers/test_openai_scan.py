"""The OpenAI JSON fast path reads what a full parse would, or steps aside."""

from __future__ import annotations

import json
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

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
    assert scan_body(body) == (
        document["usage"],
        document["model"],
        document.get("id"),
        document.get("service_tier"),
    )


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
    assert scan_body(json.dumps(document, indent=2).encode()) == (
        {"prompt_tokens": 3},
        "gpt-4o",
        "x",
        None,
    )


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
    assert found[:3] == (document["usage"], document["model"], document["id"])


@pytest.mark.parametrize(
    "document",
    [
        # Responses: the tier before usage; metadata after it may name any key
        {
            "id": "r",
            "model": "m",
            "service_tier": "flex",
            "usage": {"input_tokens": 1},
            "metadata": {"service_tier": "x"},
        },
        # chat: the tier after usage, but not right after it
        {
            "id": "c",
            "model": "m",
            "usage": {"prompt_tokens": 1},
            "system_fingerprint": "f",
            "service_tier": "default",
        },
        # a null tier, or a nested key of that name holding an object
        {"id": "r", "model": "m", "service_tier": None, "usage": {"input_tokens": 1}},
        {
            "id": "r",
            "model": "m",
            "service_tier": "priority",
            "tools": [{"parameters": {"service_tier": {"type": "string"}}}],
            "usage": {"input_tokens": 1},
        },
        {"id": "c", "model": "m", "usage": {"prompt_tokens": 1}, "service_tier": 'a"b'},
    ],
)
def test_scan_reads_the_tier_where_openai_puts_it_or_steps_aside(
    document: dict[str, object],
) -> None:
    found = scan_body(json.dumps(document).encode())
    assert found is None or found[3] == document.get("service_tier")


# Random OpenAI-shaped bodies: the keys in OpenAI's order, any strings, any usage.
_TEXT = st.text(max_size=12)
_PLAIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._", max_size=40)
_SCALARS = st.none() | st.booleans() | st.integers(-5, 2**40) | st.floats() | _TEXT
_FIGURES = st.integers(0, 10**6) | _SCALARS
_DETAILS = (
    st.none()
    | st.dictionaries(
        st.sampled_from(["cached_tokens", "audio_tokens", "reasoning_tokens", "image_tokens", "x"]),
        _FIGURES,
    )
    | _SCALARS
)
_CHAT_USAGE = st.fixed_dictionaries(
    {"prompt_tokens": _FIGURES},
    optional={
        "completion_tokens": _FIGURES,
        "total_tokens": _FIGURES,
        "prompt_tokens_details": _DETAILS,
        "completion_tokens_details": _DETAILS,
    },
)
_RESPONSES_USAGE = st.fixed_dictionaries(
    {"input_tokens": _FIGURES},
    optional={
        "input_tokens_details": _DETAILS,
        "output_tokens": _FIGURES,
        "output_tokens_details": _DETAILS,
        "total_tokens": _FIGURES,
    },
)
_TIERS = st.sampled_from(["default", "flex", "priority", "scale"]) | _TEXT | st.none()
_METADATA = st.dictionaries(st.sampled_from(["usage", "service_tier", "k"]), _TEXT, max_size=2)


def _chat(draw: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": draw(_PLAIN | _TEXT),
        "object": "chat.completion",
        "created": draw(st.integers(0, 2**31)),
        "model": draw(_PLAIN | _TEXT),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": draw(_TEXT)}}],
        "usage": draw(_CHAT_USAGE),
    }
    if draw(st.booleans()):
        document["service_tier"] = draw(_TIERS)
    document["system_fingerprint"] = draw(_TEXT)
    return document


def _responses(draw: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": draw(_PLAIN | _TEXT),
        "object": "response",
        "created_at": draw(st.integers(0, 2**31)),
        "instructions": draw(st.none() | _TEXT),
        "model": draw(_PLAIN | _TEXT),
        "output": [{"type": "message", "content": [{"type": "output_text", "text": draw(_TEXT)}]}],
    }
    if draw(st.booleans()):
        document["service_tier"] = draw(_TIERS)
    document["usage"] = draw(_RESPONSES_USAGE)
    document["user"] = None
    document["metadata"] = draw(_METADATA)
    return document


def _embeddings(draw: Any) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.25]}],
        "model": draw(_PLAIN | _TEXT),
        "usage": draw(_CHAT_USAGE),
    }


@st.composite
def openai_bodies(draw: Any) -> tuple[dict[str, Any], bytes]:
    document = draw(st.sampled_from([_chat, _responses, _embeddings]))(draw)
    text = json.dumps(
        document,
        indent=draw(st.sampled_from([None, 2])),
        ensure_ascii=draw(st.booleans()),
        separators=draw(st.sampled_from([None, (",", ":")])),
    )
    return document, text.encode("utf-8", "surrogatepass")


@settings(max_examples=400, deadline=None)
@given(openai_bodies())
def test_scan_agrees_with_a_full_parse_on_random_bodies(
    case: tuple[dict[str, Any], bytes],
) -> None:
    _, body = case
    parsed = json.loads(body)
    found = scan_body(body)
    if found is None:  # stepped aside: the reader parses in full
        return
    usage, model, response_id, tier = found
    assert usage == parsed["usage"] and type(usage) is dict
    assert model == parsed["model"]
    assert response_id == parsed.get("id")
    wanted_tier = parsed.get("service_tier")
    assert tier == (wanted_tier if isinstance(wanted_tier, str) else None)


@settings(max_examples=200, deadline=None)
@given(openai_bodies())
def test_scan_reads_plain_bodies_without_stepping_aside(case: tuple[dict[str, Any], bytes]) -> None:
    """What OpenAI sends (plain ids, models and tiers, nothing after usage that looks
    like a tier) is read by the scan, not handed to the general path."""
    document, body = case
    plain = str.isascii
    tier = document.get("service_tier", "")
    if not (
        plain(document["model"])
        and "\\" not in json.dumps(document["model"])
        and "\\" not in json.dumps(document.get("id", ""))
        and isinstance(tier, str)
        and "\\" not in json.dumps(tier)
        and "service_tier" not in document.get("metadata", {})
        and "usage" not in document.get("metadata", {})
    ):
        return
    assert scan_body(body) is not None
