"""The fast path for whole JSON answers: read the usage without parsing the body.

The SDK parses every answer anyway; tokenbudget needs only four top-level
fields of it (``id``, ``model``, ``usage``, ``service_tier``). OpenAI writes its
keys in a known order, so they can be found by position: ``id`` and ``model``
open the document, ``usage`` is the last object in it. Whenever the body does
not look exactly as expected, :func:`scan_body` says so and the reader parses
the body in full.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["SCANNED_PROVIDERS", "scan_body"]

#: Providers whose JSON bodies have a known key order (``id``, ``model`` before any
#: echoed request fields; ``usage`` last but for scalars and ``metadata``). Azure
#: sorts keys alphabetically (``choices`` first), so it is parsed in full.
SCANNED_PROVIDERS = frozenset(("openai",))

_DECODER = json.JSONDecoder()
_TIER = re.compile(rb'"service_tier":\s*"([A-Za-z_-]+)"')
# How a chat completion opens: id, object, created, then model, read by one match.
_CHAT_HEAD = re.compile(
    rb'\s*\{\s*"id":\s*"([^"\\]*)",\s*"object":\s*"[a-z.]*",\s*"created":\s*\d+,'
    rb'\s*"model":\s*"([^"\\]*)"'
)
_PLAIN_STRING = re.compile(rb'\s*"([^"\\]*)"')
_STRING_VALUE = re.compile(rb'\s*"((?:[^"\\]|\\.)*)"')
_NOT_A_STRING = object()


def scan_body(body: bytes) -> dict[str, Any] | None:
    """The top-level ``id``, ``model``, ``usage`` and ``service_tier`` of an OpenAI body,
    read without parsing the whole document (the SDK parses it anyway).

    JSON strings escape their quotes, so ``"usage":`` can only be a key. The usage
    object is the last one, ``model`` and ``id`` the first; anything unexpected
    (a missing key, a value of the wrong type) returns ``None`` and the caller
    parses the body in full.
    """
    usage_at = body.rfind(b'"usage":')
    if usage_at < 0:
        return None
    # Only the tail after the usage key is decoded: usage, then a few scalars.
    tail = body[usage_at + 8 :].decode("utf-8").lstrip(" \n\r\t")
    try:
        usage, _ = _DECODER.raw_decode(tail)
    except ValueError:
        return None
    if not (isinstance(usage, dict) and ("prompt_tokens" in usage or "input_tokens" in usage)):
        return None
    head = _CHAT_HEAD.match(body)
    if head is not None:  # a chat completion: both read at once
        found: dict[str, Any] = {
            "usage": usage,
            "model": head.group(2).decode("utf-8"),
            "id": head.group(1).decode("utf-8"),
        }
    else:
        model = _head_string(body, b'"model":')
        if not isinstance(model, str):
            return None
        found = {"usage": usage, "model": model}
        response_id = _head_string(body, b'"id":')
        if response_id is not None:  # embeddings have no id
            if not isinstance(response_id, str):
                return None
            found["id"] = response_id
    tier_at = body.rfind(b'"service_tier":')  # after usage in chat, before it in Responses
    if tier_at >= 0:
        tier = _TIER.match(body, tier_at)
        if tier:
            found["service_tier"] = tier.group(1).decode("ascii")
    return found


def _head_string(body: bytes, key: bytes) -> Any:
    """The string value at the first ``key`` of ``body``: ``None`` when the key is
    absent, ``_NOT_A_STRING`` when its value is something else."""
    at = body.find(key)
    if at < 0:
        return None
    match = _PLAIN_STRING.match(body, at + len(key))
    if match is not None:
        return match.group(1).decode("utf-8")
    match = _STRING_VALUE.match(body, at + len(key))  # one with escapes, or not a string
    if match is None:
        return _NOT_A_STRING
    decoded: str = json.loads(b'"' + match.group(1) + b'"')
    return decoded
