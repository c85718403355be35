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

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._core import StoredResponse, loads

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

_MAGIC = b"TBC1"
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
        """Approximate memory footprint in bytes."""
        headers = sum(len(name) + len(value) for name, value in self.response.headers)
        return len(self.response.body) + headers + _OVERHEAD

    def expired(self, now: float) -> bool:
        """True once ``now`` has reached the expiry time."""
        return self.expires_at is not None and now >= self.expires_at

    def to_bytes(self) -> bytes:
        """The entry as bytes: a magic tag, a JSON head with its length, the body."""
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
        }
        encoded = json.dumps(head, separators=(",", ":")).encode()
        return _MAGIC + len(encoded).to_bytes(4, "big") + encoded + response.body

    @classmethod
    def from_bytes(cls, data: bytes) -> CacheEntry:
        """The entry :meth:`to_bytes` wrote; ``ValueError`` for anything else."""
        if data[:4] != _MAGIC or len(data) < 8:
            raise ValueError("not a tokenbudget cache entry")
        size = int.from_bytes(data[4:8], "big")
        try:
            return cls._from_head(loads(data[8 : 8 + size]), bytes(data[8 + size :]))
        except (KeyError, TypeError, AttributeError, OverflowError) as exc:
            raise ValueError(f"damaged tokenbudget cache entry: {exc!r}") from exc

    @classmethod
    def _from_head(cls, head: dict[str, Any], body: bytes) -> CacheEntry:
        response = StoredResponse(
            status_code=int(head["status"]),
            headers=tuple([(str(name), str(value)) for name, value in head["headers"]]),
            body=body,
            stream=bool(head["stream"]),
        )
        expires = head.get("expires")
        return cls(
            response=response,
            created_at=float(head["created"]),
            expires_at=None if expires is None else float(expires),
            provider=str(head.get("provider") or ""),
            model=head.get("model"),
            input_tokens=int(head.get("in") or 0),
            output_tokens=int(head.get("out") or 0),
        )
