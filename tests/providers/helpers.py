"""Helpers for the provider tests: fixtures on disk, chunked mock responses for both families."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tokenbudget import TokenTracker

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FAMILIES = ("httpx", "httpx2")
JSON = "application/json"
SSE = "text/event-stream"


def fixture_bytes(name: str) -> bytes:
    """Raw bytes of ``fixtures/<name>``."""
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    """``fixtures/<name>`` parsed as JSON."""
    return json.loads(fixture_bytes(name))


def module(family: str) -> Any:
    """The ``httpx`` or ``httpx2`` module."""
    return importlib.import_module(family)


def chunked_stream(family: str, data: bytes, size: int = 37) -> Any:
    """A byte stream of ``family`` serving ``data`` in ``size``-byte chunks, sync or async."""
    mod = module(family)

    class Stream(mod.SyncByteStream, mod.AsyncByteStream):  # type: ignore[misc, name-defined]
        def __iter__(self) -> Iterator[bytes]:
            for i in range(0, len(data), size):
                yield data[i : i + size]

        async def __aiter__(self) -> Any:
            for i in range(0, len(data), size):
                yield data[i : i + size]

    return Stream()


Handler = Callable[[Any], Any]


def answer(family: str, data: bytes, content_type: str, *, status: int = 200) -> Any:
    """A response of ``family`` with ``data`` served in small chunks."""
    headers = {"content-type": content_type, "request-id": "req_test"}
    return module(family).Response(status, headers=headers, stream=chunked_stream(family, data))


class Recorder:
    """A mock-transport handler answering from ``{url suffix: (body, content type)}``."""

    def __init__(self, family: str, routes: dict[str, tuple[bytes, str]]) -> None:
        self.family = family
        self.routes = routes
        self.requests: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        url = str(request.url)
        for suffix, (data, content_type) in self.routes.items():
            if url.endswith(suffix):
                return answer(self.family, data, content_type)
        return module(self.family).Response(404, json={"error": {"message": "no route"}})

    def body(self, index: int = -1) -> Any:
        """The JSON body of a request the handler saw."""
        return json.loads(self.requests[index].content)


def sync_client(tracker: TokenTracker, family: str, handler: Handler) -> Any:
    """A tracked sync client of ``family`` over a mock transport."""
    return tracker.httpx_client(family=family, transport=module(family).MockTransport(handler))


def async_client(tracker: TokenTracker, family: str, handler: Handler) -> Any:
    """A tracked async client of ``family`` over a mock transport."""
    return tracker.async_httpx_client(
        family=family, transport=module(family).MockTransport(handler)
    )
