"""Incremental content-encoding decoders for the copy of a body that we parse.

At the transport level a response body is still content-encoded; the SDK gets
the original bytes and decodes them itself, while tokenbudget decodes a copy to
read usage. Brotli and zstd are decoded when their modules are installed
(``brotli``/``brotlicffi``, ``zstandard`` or Python 3.14's ``compression.zstd``);
otherwise :class:`UnsupportedEncoding` is raised and the caller records the call
as estimated.
"""

from __future__ import annotations

import zlib
from typing import Any, Protocol

__all__ = ["IDENTITY", "BodyDecodingError", "ContentDecoder", "UnsupportedEncoding", "decoder_for"]


class UnsupportedEncoding(Exception):
    """A content-encoding we cannot decode in this environment."""


class BodyDecodingError(Exception):
    """A body tokenbudget hands over decoded (its encoding header removed) stopped decoding.

    The caller cannot be given the original bytes any more, so it must get the
    error its own client would have raised: the adapter hands over
    :attr:`decoded`, the bytes decoded before the failure and still owed to the
    caller, then raises its httpx family's ``DecodingError`` from this one.
    """

    def __init__(self, message: str, decoded: bytes = b"") -> None:
        super().__init__(message)
        self.decoded = decoded


class ContentDecoder(Protocol):
    """Push decoder: ``decode(chunk)`` as bytes arrive, ``flush()`` at the end."""

    def decode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class IdentityDecoder:
    """No encoding."""

    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class ZlibDecoder:
    """gzip, or deflate with or without its zlib wrapper (servers send both).

    Which deflate it is shows in the first two bytes (a zlib header), so those
    are waited for: a first chunk of one byte cannot tell.
    """

    def __init__(self, gzip: bool) -> None:
        self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16) if gzip else None
        self._head = b""

    def decode(self, data: bytes) -> bytes:
        if self._obj is not None:
            return self._obj.decompress(data)
        self._head += data
        if len(self._head) < 2:
            return b""
        data, self._head = self._head, b""
        if _zlib_header(data):
            try:
                self._obj = zlib.decompressobj(zlib.MAX_WBITS)
                return self._obj.decompress(data)
            except zlib.error:  # raw deflate whose first bytes look like a header
                pass
        self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._obj.decompress(data)

    def flush(self) -> bytes:
        if self._obj is None:
            if not self._head:
                return b""
            head, self._head = self._head, b""
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._obj.decompress(head) + self._obj.flush()
        return self._obj.flush()


def _zlib_header(data: bytes) -> bool:
    """True when ``data`` starts with a valid zlib header (RFC 1950: deflate, checksum)."""
    return data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


class BrotliDecoder:
    """br, through whichever brotli binding is installed."""

    def __init__(self) -> None:
        try:
            import brotli
        except ImportError:
            try:
                import brotlicffi as brotli
            except ImportError:
                raise UnsupportedEncoding("br (install brotli to parse it)") from None
        self._obj: Any = brotli.Decompressor()
        self._decode = getattr(self._obj, "decompress", None) or self._obj.process

    def decode(self, data: bytes) -> bytes:
        return bytes(self._decode(data))

    def flush(self) -> bytes:
        return b""


class ZstdDecoder:
    """zstd, through ``compression.zstd`` (3.14+) or ``zstandard``."""

    def __init__(self) -> None:
        # Every module httpx or httpx2 decodes zstd with: whatever the caller's client
        # can decode, tokenbudget can (the event filter relies on it).
        try:
            from compression import zstd  # type: ignore[import-not-found]

            self._obj: Any = zstd.ZstdDecompressor()
            return
        except ImportError:
            pass
        try:
            from backports import zstd as backport  # type: ignore[import-not-found]

            self._obj = backport.ZstdDecompressor()
            return
        except ImportError:
            pass
        try:
            import zstandard
        except ImportError:
            raise UnsupportedEncoding("zstd (install zstandard to parse it)") from None
        self._obj = zstandard.ZstdDecompressor().decompressobj()

    def decode(self, data: bytes) -> bytes:
        return bytes(self._obj.decompress(data))

    def flush(self) -> bytes:
        return b""


class MultiDecoder:
    """Several encodings, applied in order, so decoded in reverse."""

    def __init__(self, decoders: list[ContentDecoder]) -> None:
        self._decoders = list(reversed(decoders))

    def decode(self, data: bytes) -> bytes:
        for decoder in self._decoders:
            data = decoder.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self._decoders:
            data = decoder.decode(data) + decoder.flush()
        return data


def _single(name: str) -> ContentDecoder:
    if name in ("gzip", "x-gzip"):
        return ZlibDecoder(gzip=True)
    if name == "deflate":
        return ZlibDecoder(gzip=False)
    if name == "br":
        return BrotliDecoder()
    if name == "zstd":
        return ZstdDecoder()
    raise UnsupportedEncoding(name)


def decoder_for(content_encoding: str | None, *, skip_unsupported: bool = False) -> ContentDecoder:
    """A decoder for a ``Content-Encoding`` header value (``None``: identity).

    An encoding that cannot be decoded here raises :class:`UnsupportedEncoding`,
    unless ``skip_unsupported``: then it is left out, as httpx and httpx2 leave
    out the encodings they do not support, so that the result decodes exactly
    what the caller's client will hand the SDK.
    """
    if not content_encoding:
        return IDENTITY  # stateless, so one serves every response
    names = [part.strip().lower() for part in content_encoding.split(",")]
    names = [name for name in names if name not in ("", "identity")]
    decoders: list[ContentDecoder] = []
    for name in names:
        try:
            decoders.append(_single(name))
        except UnsupportedEncoding:
            if not skip_unsupported:
                raise
    if not decoders:
        return IDENTITY
    if len(decoders) == 1:
        return decoders[0]
    return MultiDecoder(decoders)


#: The identity decoder: stateless, shared by every unencoded response.
IDENTITY = IdentityDecoder()
