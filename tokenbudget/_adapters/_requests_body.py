"""The body of a tracked ``requests`` response: urllib3's response, teed to the exchange.

``requests`` reads a body through its urllib3 response (``response.raw``):
``iter_content``, ``iter_lines``, ``.content`` and ``.json()`` all call
``raw.stream(size, decode_content=True)``, and urllib3 removes the
content-encoding itself. :class:`TrackedRaw` stands in for that object: each
read goes on to the real one, and the bytes it gives the caller, already
decoded, are the bytes the exchange reads (the adapter tells the exchange the
body has no encoding when urllib3 removes it). The tee, the record in an
idempotent close, the usage report read after an early close and the record
of a body dropped unclosed are the httpx streams' own
(:class:`~._streams.TrackedStreamLogic`), driven over ``raw.stream``.

A body read undecoded (``raw.read(decode_content=False)``) of an answer
urllib3 would decode passes through unread: the call is recorded when it
closes, with its usage estimated.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from urllib3.exceptions import DecodeError

from .._core import Exchange
from ._streams import TrackedStreamLogic

__all__ = ["TrackedRaw", "decoded_by_urllib3"]


def decoded_by_urllib3(raw: Any) -> bool:
    """True when urllib3 removes ``raw``'s content-encoding on a decoding read."""
    encoding = str(raw.headers.get("content-encoding", "")).strip().lower()
    known = getattr(raw, "CONTENT_DECODERS", ())
    parts = [part.strip() for part in encoding.split(",") if part.strip()]
    return bool(parts) and all(part in known for part in parts)


class _Source:
    """The real body as the caller reads it: ``raw.stream`` at the first reading's settings."""

    def __init__(self, raw: Any, decode: bool | None) -> None:
        self.raw = raw
        self.size: int | None = None
        #: ``True`` forces decoding (the caller gets the exchange's bytes, filtered).
        self.decode = decode

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.raw.stream(self.size, decode_content=self.decode))

    def close(self) -> None:
        self.raw.close()


class _Body(TrackedStreamLogic):
    """The httpx streams' tee, over urllib3 (whose ``DecodeError`` requests turns into its own)."""

    _decoding_error = DecodeError


class _Socket:
    """The connection's socket, for the bounded read of a usage report after an early close."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def get_extra_info(self, name: str) -> Any:
        connection = getattr(self._raw, "connection", None)
        return getattr(connection, "sock", None) if name == "socket" else None


class TrackedRaw:
    """Stands in for a urllib3 response so that ``exchange`` reads every byte the caller gets.

    Args:
        raw: the urllib3 response (``requests.Response.raw``).
        exchange: the call's exchange, whose ``start_response`` has been called.
        filtered: the exchange rewrites the body (its headers were dropped): the
            caller gets the exchange's decoded bytes whatever it asks for.
        encoded: urllib3 decodes this body, and the exchange was told it has no encoding.
    """

    def __init__(self, raw: Any, exchange: Exchange, *, filtered: bool, encoded: bool) -> None:
        self._raw = raw
        self._encoded = encoded and not filtered
        self._source = _Source(raw, True if filtered else None)
        self._body = _Body(self._source, exchange, _Socket(raw))
        self._reader: Iterator[bytes] | None = None
        self._left = b""  # what ``read(amt)`` took from a chunk beyond ``amt``

    def __getattr__(self, name: str) -> Any:
        # Headers, status, release_conn, _original_response (cookies)...: the real response's.
        if name == "_raw":
            raise AttributeError(name)  # not set yet: no recursion
        return getattr(self._raw, name)

    def __repr__(self) -> str:
        return f"<TrackedRaw {self._raw!r}>"

    def _observed(self, size: int | None, decode_content: bool | None) -> bool:
        """Settle how the body is read on its first reading; False: pass it through unread."""
        source = self._source
        if self._reader is None and source.decode is None:
            decode = decode_content if decode_content is not None else self._raw.decode_content
            source.decode = bool(decode)
            source.size = size
        return source.decode or not self._encoded

    def stream(
        self, amt: int | None = 2**16, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        """urllib3's ``stream``: every chunk the caller gets, seen by the exchange first."""
        if not self._observed(amt, decode_content):
            yield from self._raw.stream(amt, decode_content=decode_content)
            return
        if self._left:
            left, self._left = self._left, b""
            yield left
        yield from self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        # One reading of the tracked body, shared by stream() and read(); a loop,
        # not ``yield from``: a caller letting go of one reading must not close it.
        if self._reader is None:
            self._reader = iter(self._body)
        for chunk in self._reader:  # noqa: UP028
            yield chunk

    def read(
        self,
        amt: int | None = None,
        decode_content: bool | None = None,
        cache_content: bool = False,
    ) -> bytes:
        """urllib3's ``read``: at most ``amt`` bytes (all when ``None``), seen by the exchange."""
        if not self._observed(amt, decode_content):
            return bytes(self._raw.read(amt, decode_content=decode_content))
        pieces = [self._left]
        size = len(self._left)
        chunks = self._chunks()
        while amt is None or size < amt:
            chunk = next(chunks, None)
            if chunk is None:
                break
            pieces.append(chunk)
            size += len(chunk)
        data = b"".join(pieces)
        if amt is None:
            self._left = b""
            return data
        self._left = data[amt:]
        return data[:amt]

    def close(self) -> None:
        """Record the call (once) and close the real response."""
        self._body.close()

    @property
    def closed(self) -> bool:
        """The real response's ``closed``."""
        return bool(self._raw.closed)
