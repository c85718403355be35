"""What a stored entry must look like to be replayed: anything else is damaged.

An entry read from outside memory (a disk cache, a recording) is checked
field by field before it can reach an SDK: a status the cache would have
stored (2xx), headers that are valid HTTP and fit in Latin-1 (the bytes they
were), sizes that agree with the body, and for a stream a body that cuts into
events and joins back to itself. A failed check raises ``ValueError``; the
backend then treats the entry as a miss.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .._core import split_events

__all__ = ["MAX_HEADERS", "checked_head"]

#: At most this many headers per stored answer (the cache keeps a handful).
MAX_HEADERS = 64
_MAX_HEADER_BYTES = 8192
_MAX_TOKENS = 10**12
# RFC 9110 token characters; stored names are lower-case.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]{1,256}")
# Field values: visible Latin-1 text, spaces and tabs; no CR, LF or NUL.
_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def checked_head(head: Any, body: bytes, *, trusted_body: bool = False) -> dict[str, Any]:
    """``head`` if it describes a replayable answer with ``body``; else ``ValueError``.

    ``trusted_body``: the entry was sealed with a store's own secret, so its body
    is the one the cache stored, which was read whole as a stream then: cutting
    it into events again (the costly check) is skipped.
    """
    if not isinstance(head, dict):
        raise ValueError("the head is not an object")
    status = head["status"]
    if not _is_int(status) or not 200 <= status <= 299:
        raise ValueError(f"status {status!r} is not a stored answer's")
    _check_headers(head["headers"])
    stream = head["stream"]
    if not isinstance(stream, bool):
        raise ValueError("stream is not a boolean")
    _check_time(head["created"], "created")
    if head.get("expires") is not None:
        _check_time(head["expires"], "expires")
    if not isinstance(head.get("provider", ""), str):
        raise ValueError("provider is not text")
    model = head.get("model")
    if model is not None and not isinstance(model, str):
        raise ValueError("model is not text")
    for field in ("in", "out"):
        count = head.get(field, 0)
        if not _is_int(count) or not 0 <= count <= _MAX_TOKENS:
            raise ValueError(f"{field!r} is not a token count")
    size = head.get("size")
    if size is not None and size != len(body):
        raise ValueError("the body's size differs from the one stored")
    if stream and not trusted_body and b"".join(split_events(body)) != body:
        raise ValueError("the stream does not cut into events")
    return head


def _check_headers(headers: Any) -> None:
    if not isinstance(headers, list) or len(headers) > MAX_HEADERS:
        raise ValueError("headers are not a short list")
    for pair in headers:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("a header is not a (name, value) pair")
        name, value = pair
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError("a header name is not a token")
        if not isinstance(value, str) or len(value) > _MAX_HEADER_BYTES:
            raise ValueError("a header value is not short text")
        if not _VALUE.fullmatch(value):
            raise ValueError("a header value is not Latin-1 field text")


def _check_time(value: Any, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{field!r} is not a time")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
