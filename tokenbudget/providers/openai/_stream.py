"""Asking a chat stream for its usage, and hiding that from the caller.

Streamed chat reports usage only when the request has
``stream_options.include_usage``; then every chunk carries ``"usage": null``
and one extra last chunk with ``"choices": []`` carries the usage. For hosts
known to accept it, tokenbudget adds the option when the caller did not
(:func:`request_usage`) and undoes both effects on the way back
(:func:`hide_injected_usage`), so the caller sees exactly the stream it asked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..._core import ServerSentEvent

__all__ = ["hide_injected_usage", "request_usage"]

_COMMON_USAGE_NULL = (b',"usage":null', b', "usage": null')
_USAGE_NULL = re.compile(rb',\s*"usage"\s*:\s*null|"usage"\s*:\s*null\s*,?')


def request_usage(body: Mapping[str, Any]) -> bytes | None:
    """``body`` re-encoded with ``stream_options.include_usage`` set, or ``None`` when
    the caller already asked for usage (then nothing needs hiding)."""
    options = body.get("stream_options")
    if isinstance(options, Mapping) and options.get("include_usage") is True:
        return None
    changed = dict(body)
    changed["stream_options"] = {
        **(options if isinstance(options, Mapping) else {}),
        "include_usage": True,
    }
    return json.dumps(changed, ensure_ascii=False, separators=(",", ":")).encode()


def hide_injected_usage(event: ServerSentEvent) -> bytes:
    """Undo what ``stream_options.include_usage`` changed in one chat chunk.

    Drops the extra usage-only chunk (``"choices": []`` with a usage object) and
    removes ``"usage": null`` from the others, so the caller sees the stream it
    asked for.
    """
    raw = event.raw
    for common in _COMMON_USAGE_NULL:  # the usual spellings, without a regex
        if common in raw:
            return raw.replace(common, b"", 1)
    if b'"usage"' not in raw:
        return raw
    if _USAGE_NULL.search(raw):
        return _USAGE_NULL.sub(b"", raw, count=1)
    document = json.loads(event.data) if event.data.startswith("{") else None
    if isinstance(document, Mapping) and document.get("choices") == [] and document.get("usage"):
        return b""
    return raw
