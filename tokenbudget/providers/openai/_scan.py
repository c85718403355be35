"""The fast path for whole JSON answers: read the usage without parsing the body.

The SDK parses every answer anyway; tokenbudget needs only four top-level
fields of it (``id``, ``model``, ``usage``, ``service_tier``). OpenAI writes its
keys in a known order, so they can be found by position: ``id`` and ``model``
open the document, ``usage`` is the last object in it. Whenever the body does
not look exactly as expected, :func:`scan_body` says so and the reader parses
the body in full.

JSON strings escape their quotes, so a quoted key followed by a colon
(``"usage":``) is never inside a string. Values are matched with ``[^"]*``
(which the regex engine runs as a plain byte search) and refused when they hold
a backslash: an escape is left to the general path, which decodes it properly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["SCANNED_PROVIDERS", "scan_body"]

#: Providers whose JSON bodies have a known key order (``id``, ``model`` before any
#: echoed request fields; ``usage`` last but for scalars and ``metadata``). Azure
#: sorts keys alphabetically (``choices`` first), so it is parsed in full.
SCANNED_PROVIDERS = frozenset(("openai",))

#: Reads one JSON value at an index of a string: ``(value, end)``; what
#: ``JSONDecoder.raw_decode`` runs, without its wrapper.
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]]
_SCAN_ONCE = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
# How a chat completion opens: id, object, created, then model, read by one match.
_CHAT_HEAD = re.compile(
    rb'\s*\{\s*"id": ?"([^"]*)",\s*"object": ?"[^"]*",\s*"created": ?\d+,\s*"model": ?"([^"]*)"'
)
# The tier as chat answers place it, right after usage; as Responses do, the last before it.
_TIER_AFTER = re.compile(r'\s*,\s*"service_tier": ?"([^"]*)"')
_TIER = re.compile(rb'"service_tier": ?"([^"]*)"')
_PLAIN_STRING = re.compile(rb'\s*"([^"]*)"')
_STRING_VALUE = re.compile(rb'\s*"((?:[^"\\]|\\.)*)"')
_UNSURE: Any = object()
#: A backslash, as an int: ``in`` a bytes object then runs one ``memchr`` (looking for a
#: bytes object first tries it as an int, an exception raised and cleared each time).
_BACKSLASH = 92

#: What :func:`scan_body` finds: ``usage`` (the object as a full parse gives it),
#: ``model``, ``id`` (``None`` for embeddings) and ``service_tier`` (``None`` when absent).
Scanned = tuple[dict[str, Any], str, str | None, str | None]


def scan_body(body: bytes) -> Scanned | None:
    """The top-level ``usage``, ``model``, ``id`` and ``service_tier`` of an OpenAI body,
    read without parsing the whole document (the SDK parses it anyway).

    The usage object is the last one, ``model`` and ``id`` the first; anything
    unexpected (a missing key, a value of the wrong type, an escape) returns
    ``None`` and the caller parses the body in full.
    """
    usage_at = body.rfind(b'"usage":')
    if usage_at < 0:
        return None
    # Only the tail after the usage key is decoded: usage, then a few scalars.
    tail = body[usage_at + 8 :].decode("utf-8", "surrogatepass").lstrip(" \n\r\t")
    try:
        usage, end = _SCAN_ONCE(tail, 0)
    except (StopIteration, ValueError):
        return None
    if type(usage) is not dict or ("prompt_tokens" not in usage and "input_tokens" not in usage):
        return None
    head = _CHAT_HEAD.match(body)
    if head is not None:  # a chat completion: id and model read at once
        response_id, model = head.group(1, 2)
        if _BACKSLASH in response_id or _BACKSLASH in model:
            return None
        response_id, model = response_id.decode(), model.decode()
    else:
        model = _head_string(body, b'"model":')
        response_id = _head_string(body, b'"id":')  # embeddings have no id
        if type(model) is not str or response_id is _UNSURE:
            return None
    tier = _tier(body, usage_at, tail, end)
    return None if tier is _UNSURE else (usage, model, response_id, tier)


def _tier(body: bytes, usage_at: int, tail: str, end: int) -> Any:
    """The top-level ``service_tier``: ``None`` when there is none, ``_UNSURE`` when it
    is not where OpenAI puts it, or not a plain string."""
    after = _TIER_AFTER.match(tail, end)
    if after is not None:
        tier: str = after.group(1)
    elif tail.find('"service_tier":', end) >= 0:  # elsewhere after usage (metadata?)
        return _UNSURE
    else:
        tier_at = body.rfind(b'"service_tier":', 0, usage_at)
        if tier_at < 0:
            return None
        match = _TIER.match(body, tier_at)
        if match is None:  # null, or a nested key's object
            return _UNSURE
        tier = match.group(1).decode()
    return _UNSURE if "\\" in tier else tier


def _head_string(body: bytes, key: bytes) -> Any:
    """The string value at the first ``key`` of ``body``: ``None`` when the key is
    absent, ``_UNSURE`` when its value is something else."""
    at = body.find(key)
    if at < 0:
        return None
    match = _PLAIN_STRING.match(body, at + len(key))
    if match is not None and _BACKSLASH not in match.group(1):
        return match.group(1).decode()
    match = _STRING_VALUE.match(body, at + len(key))  # one with escapes, or not a string
    if match is None:
        return _UNSURE
    decoded: str = json.loads(b'"' + match.group(1) + b'"')
    return decoded
