"""A Gemini API on loopback for the google-genai tests: exact usage, and what each request carried.

Version-neutral: these helpers need only google-genai (any release from 1.6) and the
standard library, so the tests that use them also run in the side environments of old
google-genai generations.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from importlib import metadata
from typing import Any

import pytest

from tokenbudget import TokenTracker, Usage

from .loopback import LoopbackServer, start_response
from .support import M, Price, StubBook

MODEL = "gemini-2.5-flash"
#: The text every answer reads as, streamed or not.
TEXT = "Olá! Tudo bem?"
#: What the server reports, so a record can be checked figure by figure.
USAGE = Usage(input_tokens=11, output_tokens=7)
PRICE = Price("0.30", "2.50")
#: What :data:`USAGE` costs at :data:`PRICE`.
COST = (11 * Decimal("0.30") + 7 * Decimal("2.50")) / M


def _answer(text: str, candidates: int, last: bool = True) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if last:
        candidate["finishReason"] = "STOP"
    return {
        "candidates": [{**candidate, "index": 0}],
        "usageMetadata": {
            "promptTokenCount": 11,
            "candidatesTokenCount": candidates,
            "totalTokenCount": 11 + candidates,
        },
        "modelVersion": MODEL,
        "responseId": "resp-1",
    }


JSON_BODY = json.dumps(_answer(TEXT, 7)).encode()
#: Gemini repeats cumulative usage in every event: the last one holds the totals.
SSE_BODY = b"".join(
    b"data: " + json.dumps(_answer(text, count, last)).encode() + b"\r\n\r\n"
    for text, count, last in (("Olá! ", 3, False), ("Tudo bem?", 7, True))
)


@dataclass
class Seen:
    """One request the server received: its path (with query) and headers."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)


class GeminiServer(LoopbackServer):
    """Answers ``generateContent`` and ``streamGenerateContent`` for :data:`MODEL`.

    ``keep_alive`` serves HTTP/1.1, so that clients pool their connections (the
    streamed answer, which ends at close, is then not available).
    """

    def __init__(self, keep_alive: bool = False) -> None:
        super().__init__()
        if keep_alive:
            self._httpd.RequestHandlerClass.protocol_version = "HTTP/1.1"
        self.seen: list[Seen] = []
        self.url = f"http://{self.host}"
        for version in ("v1beta", "v1beta1", "v1"):
            for prefix in ("models", "publishers/google/models"):
                base = f"/{version}/{prefix}/{MODEL}"
                self.routes[f"{base}:generateContent"] = self._json
                self.routes[f"{base}:streamGenerateContent"] = self._sse

    def _note(self, handler: BaseHTTPRequestHandler) -> None:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        self.seen.append(Seen(handler.path, headers))

    def _json(self, handler: BaseHTTPRequestHandler) -> None:
        self._note(handler)
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(JSON_BODY)))
        handler.end_headers()
        handler.wfile.write(JSON_BODY)

    def _sse(self, handler: BaseHTTPRequestHandler) -> None:
        self._note(handler)
        start_response(handler, {"content-type": "text/event-stream"})
        handler.wfile.write(SSE_BODY)

    def tracker(self) -> TokenTracker:
        """A tracker that knows this server is a Gemini API."""
        prices = StubBook({("google", MODEL): PRICE})
        return TokenTracker(prices=prices, hosts={self.host: "google"})


@contextmanager
def gemini_server(keep_alive: bool = False) -> Iterator[GeminiServer]:
    """A running :class:`GeminiServer`."""
    server = GeminiServer(keep_alive)
    with server.running():
        yield server


async def ask(client: Any, mode: str, stream: bool) -> str:
    """One ``generate_content`` call (streamed or not) through ``client``; the text read."""
    if mode == "sync" and stream and genai_release() < (1, 7):
        pytest.skip("google-genai 1.6 cannot read its own sync streams (bytes vs str lines)")
    if mode == "sync":
        if stream:
            chunks = client.models.generate_content_stream(model=MODEL, contents="Oi")
            return "".join(chunk.text for chunk in chunks)
        return str(client.models.generate_content(model=MODEL, contents="Oi").text)
    if stream:
        chunks = client.aio.models.generate_content_stream(model=MODEL, contents="Oi")
        if inspect.isawaitable(chunks):  # a coroutine since 1.8, an async iterator before
            chunks = await chunks
        return "".join([chunk.text async for chunk in chunks])
    answer = await client.aio.models.generate_content(model=MODEL, contents="Oi")
    return str(answer.text)


def across_loops(build: Callable[[], Any], times: int = 3) -> bool:
    """True when the client ``build()`` makes answers an async call in each of ``times``
    fresh event loops; False when it fails with "Event loop is closed" (a pooled
    connection of an earlier loop was reused).

    The client goes before this returns: the pools of closed loops cannot be
    closed, and their sockets are collected here rather than in a later test.
    """
    client = build()
    try:
        for _ in range(times):
            assert asyncio.run(ask(client, "async", False)) == TEXT
    except RuntimeError as failed:
        if "Event loop is closed" not in str(failed):
            raise
        return False
    finally:
        del client
        gc.collect()
    return True


def genai_release() -> tuple[int, ...]:
    """The installed google-genai's (major, minor)."""
    return tuple(int(part) for part in metadata.version("google-genai").split(".")[:2])


def has_option(name: str) -> bool:
    """True when this google-genai's ``HttpOptions`` has the field ``name``."""
    from google.genai import types

    fields = getattr(types.HttpOptions, "model_fields", {})
    return name in fields
