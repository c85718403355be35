"""What the cache keeps per answer, and its byte format for stores outside memory.

An entry is the provider's answer (:class:`~tokenbudget.cache.StoredResponse`:
status, safe headers, the decoded body; for SSE the whole event stream as
received) plus a little bookkeeping: when it was made, when it expires, and
the tokens it stands for. Nothing about the request is kept: no URL, no body,
no credential.

Only headers in :data:`SAFE_HEADERS` are kept. Anything auth- or cookie-like
could leak an account; rate-limit headers describe the account at one moment
and would mislead a client reading them on replay; ``content-encoding``,
``content-length`` and ``transfer-encoding`` describe the wire bytes, not the
decoded body stored.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._core import StoredResponse, loads
from ._validate import checked_head

__all__ = ["SAFE_HEADERS", "CacheEntry", "safe_headers"]

#: Response headers kept with an answer: its type and the ids SDKs expose.
SAFE_HEADERS = frozenset(
    (
        "content-type",
        "x-request-id",  # OpenAI: the SDK's ``_request_id``
        "request-id",  # Anthropic: the SDK's ``_request_id``
        "openai-processing-ms",
        "openai-version",
    )
)

_MAGIC = b"TBC2"
_LEGACY_MAGIC = b"TBC1"  # unsealed: read from recordings only, never from a disk cache
_SEAL_TAG = b"tokenbudget-entry-v2"
_SEAL_SIZE = 32
# Anything that can go wrong reading a damaged head; all become ValueError.
_DAMAGE = (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError)
_OVERHEAD = 256  # rough size of an entry besides its body and headers, for memory bounds


def safe_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The (name, value) pairs of ``headers`` that may be stored, names lower-cased."""
    return tuple((name.lower(), value) for name, value in headers if name.lower() in SAFE_HEADERS)


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One stored answer and its bookkeeping."""

    response: StoredResponse
    created_at: float
    """When the answer was stored (the cache's clock, seconds since the epoch)."""
    expires_at: float | None = None
    """When it stops being served; ``None``: never."""
    provider: str = ""
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def tokens(self) -> int:
        """Input plus output tokens of the call the answer came from."""
        return self.input_tokens + self.output_tokens

    @property
    def size(self) -> int:
        """Approximate memory footprint in bytes (each copy of the body a replay keeps counts)."""
        response = self.response
        headers = sum(len(name) + len(value) for name, value in response.headers)
        body = len(response.body)
        size = body + headers + _OVERHEAD
        if response.stream and response.events:
            size += body  # cut into its events
        replay = response.replay
        if replay is not None:
            size += _OVERHEAD
            if replay.events is not response.events and replay.events != (response.body,):
                size += body  # the pieces a filter let through
        return size

    def expired(self, now: float) -> bool:
        """True once ``now`` has reached the expiry time."""
        return self.expires_at is not None and now >= self.expires_at

    def to_bytes(self, secret: bytes = b"") -> bytes:
        """The entry as bytes, sealed with ``secret``.

        Layout: a magic tag, ``HMAC-SHA256(secret, ...)`` of everything after it,
        the length of a JSON head, the head, the body. A store keeps its own
        secret, so an entry rewritten by anyone without it is detected
        (:meth:`from_bytes`); without a secret the seal is a checksum.
        """
        response = self.response
        head = {
            "status": response.status_code,
            "headers": [list(pair) for pair in response.headers],
            "stream": response.stream,
            "created": self.created_at,
            "expires": self.expires_at,
            "provider": self.provider,
            "model": self.model,
            "in": self.input_tokens,
            "out": self.output_tokens,
            "size": len(response.body),
        }
        encoded = json.dumps(head, separators=(",", ":")).encode()
        sealed = len(encoded).to_bytes(4, "big") + encoded + response.body
        return _MAGIC + _seal(secret, sealed) + sealed

    @classmethod
    def from_bytes(cls, data: bytes, secret: bytes | None = None) -> CacheEntry:
        """The entry :meth:`to_bytes` wrote; ``ValueError`` for anything else.

        ``secret``: the store's; the seal must match it. ``None`` (recordings)
        checks the seal against no secret and also reads the unsealed format of
        earlier releases. Every field is validated (``_validate``) either way.
        """
        magic = data[:4]
        if magic == _MAGIC and len(data) >= 4 + _SEAL_SIZE + 4:
            framed = bytes(data[4 + _SEAL_SIZE :])
            if not hmac.compare_digest(data[4 : 4 + _SEAL_SIZE], _seal(secret or b"", framed)):
                raise ValueError("a tokenbudget cache entry whose seal does not match")
        elif magic == _LEGACY_MAGIC and secret is None and len(data) >= 8:
            framed = bytes(data[4:])
        else:
            raise ValueError("not a tokenbudget cache entry")
        size = int.from_bytes(framed[:4], "big")
        if size > len(framed) - 4:
            raise ValueError("a tokenbudget cache entry cut short")
        body = framed[4 + size :]
        try:
            head = checked_head(loads(framed[4 : 4 + size]), body, trusted_body=bool(secret))
            return cls._from_head(head, body)
        except _DAMAGE as exc:
            raise ValueError(f"damaged tokenbudget cache entry: {exc!r}") from exc

    @classmethod
    def _from_head(cls, head: dict[str, Any], body: bytes) -> CacheEntry:
        response = StoredResponse(
            status_code=head["status"],
            headers=tuple([(name, value) for name, value in head["headers"]]),
            body=body,
            stream=head["stream"],
        )
        expires = head.get("expires")
        return cls(
            response=response,
            created_at=float(head["created"]),
            expires_at=None if expires is None else float(expires),
            provider=head.get("provider") or "",
            model=head.get("model"),
            input_tokens=head.get("in") or 0,
            output_tokens=head.get("out") or 0,
        )


def _seal(secret: bytes, framed: bytes) -> bytes:
    return hmac.digest(secret, _SEAL_TAG + framed, "sha256")
