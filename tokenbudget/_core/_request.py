"""A neutral, read-only view of an outgoing HTTP request, whatever library sent it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._json import loads

__all__ = ["RequestView"]

_UNSET: Any = object()


class RequestView:
    """A neutral, read-only view of an outgoing HTTP request.

    ``host`` is lower-case without the port; ``headers`` has lower-case names.
    The body is read, and parsed as JSON, at most once and only when asked for,
    so requests that match no endpoint are never buffered. Every argument may be
    given by position (in the order of the signature): an adapter building one
    view per request then passes no keywords, which Python would collect into a
    dict on every call.
    """

    __slots__ = (
        "_body",
        "_json",
        "_load_body",
        "headers",
        "host",
        "method",
        "path",
        "port",
        "query",
    )

    def __init__(
        self,
        method: str,
        host: str,
        path: str,
        port: int | None = None,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        load_body: Callable[[], bytes] | None = None,
    ) -> None:
        self.method = method.upper()
        self.host = host.lower()
        self.port = port
        self.path = path
        self.query = query
        # (not ``headers or {}``: the truth of httpx headers is a Python-level __len__ call)
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self._body = body
        self._load_body = load_body
        self._json: Any = _UNSET

    @property
    def body(self) -> bytes:
        """The request body; read from the request on first use (matching usually needs none)."""
        if self._body is None:
            self._body = self._load_body() if self._load_body is not None else b""
        return self._body

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is empty, not JSON, or nested
        deeper than Python's JSON reader goes (it raises ``RecursionError`` there)."""
        document = self._json
        if document is _UNSET:
            body = self._body  # (an SDK's body is in memory: no second property call)
            if body is None:
                body = self.body
            try:
                document = loads(body) if body else None
            except (ValueError, RecursionError):  # not JSON, or nested past what can be read
                document = None
            self._json = document
        return document

    @property
    def host_port(self) -> str:
        """``host:port`` when a port was given, else ``host``."""
        return f"{self.host}:{self.port}" if self.port else self.host

    def __repr__(self) -> str:
        return f"<RequestView {self.method} {self.host_port}{self.path}>"
