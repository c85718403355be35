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

from ..._core import DataFilter, ServerSentEvent

__all__ = [
    "HIDE_INJECTED_USAGE",
    "add_usage_option",
    "hide_injected_usage",
    "hide_usage_data",
    "request_usage",
]

_USAGE_NULL = re.compile(rb',\s*"usage"\s*:\s*null|"usage"\s*:\s*null\s*,?')


#: Bytes JSON may have between tokens (RFC 8259 whitespace).
_BLANKS = b" \t\n\r"
_ASK_USAGE = b'"stream_options":{"include_usage":true}'


def request_usage(body: Mapping[str, Any], raw: bytes | None = None) -> bytes | None:
    """``body`` with ``stream_options.include_usage`` set, or ``None`` when the caller
    already asked for usage (then nothing needs hiding).

    ``raw``, when given, is the request body ``body`` was parsed from. When the
    body has no ``stream_options`` at all, the option is written into ``raw``
    just before its closing brace, the same document a re-encoding would give
    with no parse-and-encode round trip on the way to the first chunk
    (:func:`add_usage_option`). Otherwise the body is re-encoded.
    """
    if raw is not None and "stream_options" not in body:
        added = add_usage_option(raw, bool(body))
        if added is not None:
            return added
    options = body.get("stream_options")
    if isinstance(options, Mapping) and options.get("include_usage") is True:
        return None
    changed = dict(body)
    changed["stream_options"] = {
        **(options if isinstance(options, Mapping) else {}),
        "include_usage": True,
    }
    return json.dumps(changed, ensure_ascii=False, separators=(",", ":")).encode()


def add_usage_option(raw: bytes, members: bool) -> bytes | None:
    """``raw``, a UTF-8 JSON object without a ``stream_options`` member, with
    ``"stream_options":{"include_usage":true}`` added as its last member.

    ``members`` says whether the object has any (a comma is needed then). ``None``
    when ``raw`` is not plainly that (another encoding, a BOM, not an object): the
    caller then re-encodes the parsed body instead.
    """
    # The usual body is compact: its ends are checked without copying it.
    end = len(raw) - 1 if raw[-1:] == b"}" else len(raw.rstrip(_BLANKS)) - 1
    if end < 1 or raw[end] != 0x7D or (raw[:1] != b"{" and raw.lstrip(_BLANKS)[:1] != b"{"):
        return None
    return raw[:end] + (b"," if members else b"") + _ASK_USAGE + raw[end:]


def hide_injected_usage(event: ServerSentEvent) -> bytes:
    """Undo what ``stream_options.include_usage`` changed in one chat chunk.

    Drops the extra usage-only chunk (``"choices": []`` with a usage object) and
    removes ``"usage": null`` from the others, so the caller sees the stream it
    asked for.
    """
    return hide_usage_data(event.raw, event.data.encode("utf-8", "surrogatepass"))


def hide_usage_data(raw: bytes, data: bytes) -> bytes:
    """:func:`hide_injected_usage` for the event whose exact bytes are ``raw`` and
    whose data field is ``data`` (the bytes form of the filter, with no event made)."""
    # OpenAI writes the top-level usage last: the usual chunk ends with it, and
    # the usual spellings are cut here; anything else goes to the rules below.
    # removesuffix, not endswith: it takes its one argument as it is, where endswith
    # parses its arguments anew on each call (CPython 3.11).
    cut = raw.removesuffix(b',"usage":null}\n\n')
    if len(cut) < len(raw):
        return cut + b"}\n\n"
    cut = raw.removesuffix(b', "usage": null}\n\n')
    if len(cut) < len(raw):
        return cut + b"}\n\n"
    at = raw.rfind(b'"usage":')
    if at > 0:
        if raw[at - 1] == 0x2C and raw[at + 8 : at + 12] == b"null":  # ',"usage":null'
            return raw[: at - 1] + raw[at + 12 :]
        if raw[at - 2 : at] == b", " and raw[at + 8 : at + 13] == b" null":  # ', "usage": null'
            return raw[: at - 2] + raw[at + 13 :]
    if raw.find(b'"usage"') < 0:  # not `in`: it raises and clears a TypeError first on 3.11
        return raw
    if _USAGE_NULL.search(raw):
        return _USAGE_NULL.sub(b"", raw, count=1)
    document = json.loads(data.decode("utf-8", "replace")) if data.startswith(b"{") else None
    if isinstance(document, Mapping) and document.get("choices") == [] and document.get("usage"):
        return b""
    return raw


#: The event filter of a stream whose usage tokenbudget asked for.
HIDE_INJECTED_USAGE = DataFilter(hide_usage_data)
