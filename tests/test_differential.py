"""Differential test: a hostile answer, read by the openai SDK with and without tokenbudget.

A real HTTP server on loopback sends the same damaged or odd answer to a plain
client and to a tracked one (which may ask a stream for its usage: the server
then adds the usage chunk, as OpenAI does). The application must see the same
chunks or the same result and end with the same exception; the tracked call is
recorded exactly once.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker

from .loopback import LoopbackServer
from .support import StubBook, fixture_bytes, module

MESSAGES = [{"role": "user", "content": "Hi"}]


def chat_stream(asked: bool) -> bytes:
    """OpenAI's chat stream; its usage chunk only when the request asked for it."""
    return fixture_bytes("openai/chat_stream.sse" if asked else "openai/chat_stream_no_usage.sse")


def damaged_gzip(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data, mtime=0))
    packed[len(packed) // 2 : len(packed) // 2 + 8] = b"\xff" * 8
    return bytes(packed)


def oversized(data: bytes) -> bytes:
    """A 17 MiB comment event between the second and the third event."""
    events = data.split(b"\n\n")
    return (
        b"\n\n".join(events[:2])
        + b"\n\n: "
        + b"x" * (17 << 20)
        + b"\n\n"
        + b"\n\n".join(events[2:])
    )


def bad_utf8(data: bytes) -> bytes:
    return data.replace(b'"content":"Hello"', b'"content":"Hel\xfflo"', 1)


@dataclass(frozen=True)
class Answer:
    """What the server sends: a head, a body made from the request's ``asked``, how it ends."""

    name: str
    body: Callable[[bool], bytes]
    headers: tuple[tuple[str, str], ...] = (("content-type", "text/event-stream"),)
    status: int = 200
    stream: bool = True
    reset_after: int | None = None
    """Send this many bytes of the body, then reset the connection."""


SSE = (("content-type", "text/event-stream"),)
ANSWERS = [
    Answer("complete-stream", chat_stream),
    Answer(
        "truncated-json",
        lambda _: fixture_bytes("openai/chat.json")[:70],
        (("content-type", "application/json"),),
        stream=False,
    ),
    Answer(
        "not-json",
        lambda _: b"<html>bad gateway</html>",
        (("content-type", "application/json"),),
        stream=False,
    ),
    Answer("bad-utf8-in-stream", lambda asked: bad_utf8(chat_stream(asked))),
    Answer(
        "gzip-broken-mid-stream",
        lambda asked: damaged_gzip(chat_stream(asked)),
        (*SSE, ("content-encoding", "gzip")),
    ),
    Answer(
        "gzip-stream",
        lambda asked: gzip.compress(chat_stream(asked)),
        (*SSE, ("content-encoding", "gzip")),
    ),
    Answer("gzip-label-on-plain-body", chat_stream, (*SSE, ("content-encoding", "gzip"))),
    Answer(
        "deflate-stream",
        lambda asked: zlib.compress(chat_stream(asked)),
        (*SSE, ("content-encoding", "deflate")),
    ),
    Answer("br-label-without-brotli", chat_stream, (*SSE, ("content-encoding", "br"))),
    Answer("unknown-encoding", chat_stream, (*SSE, ("content-encoding", "x-custom"))),
    Answer("oversized-event", lambda asked: oversized(chat_stream(asked))),
    Answer("missing-content-type", chat_stream, ()),
    Answer("json-content-type-on-stream", chat_stream, (("content-type", "application/json"),)),
    Answer("bare-cr", lambda asked: chat_stream(asked).replace(b"\n", b"\r")),
    Answer(
        "bom-comments-and-pings",
        lambda asked: (
            b"\xef\xbb\xbf: hi\n\n" + chat_stream(asked).replace(b"\n\n", b"\n\n: ping\n\n")
        ),
    ),
    Answer("crlf", lambda asked: chat_stream(asked).replace(b"\n", b"\r\n")),
    Answer("no-done-marker", lambda asked: chat_stream(asked).replace(b"data: [DONE]\n\n", b"")),
    Answer("cut-mid-event", lambda asked: chat_stream(asked)[:1000]),
    Answer("reset-mid-stream", chat_stream, reset_after=1000),
    Answer("empty-body", lambda _: b""),
    Answer("error-event", lambda _: b'data: {"error": {"message": "overloaded"}}\n\n'),
    Answer("http-500-with-sse-body", chat_stream, status=500),
    Answer(
        "http-429-json",
        lambda _: b'{"error": {"message": "slow down"}}',
        (("content-type", "application/json"),),
        status=429,
    ),
]


def serve(server: LoopbackServer, answer: Answer) -> None:
    def route(handler: BaseHTTPRequestHandler) -> None:
        request = json.loads(server.requests[-1][1])
        asked = (request.get("stream_options") or {}).get("include_usage") is True
        body = answer.body(asked)
        handler.send_response(answer.status)
        for name, value in answer.headers:
            handler.send_header(name, value)
        handler.end_headers()
        if answer.reset_after is None:
            handler.wfile.write(body)
            return
        handler.wfile.write(body[: answer.reset_after])
        handler.wfile.flush()
        # SO_LINGER 0: closing sends a reset, not an orderly end of the body.
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()

    server.routes["/v1/chat/completions"] = route


Outcome = tuple[list[Any], str | None]


def outcome_of(call: Callable[[], Any], stream: bool) -> Outcome:
    seen: list[Any] = []
    try:
        result = call()
        if not stream:
            return [result.model_dump()], None
        for chunk in result:
            seen.append(chunk.model_dump(exclude_unset=True))
    except Exception as exc:
        return seen, f"{type(exc).__name__}: {exc}"
    return seen, None


async def async_outcome_of(call: Callable[[], Any], stream: bool) -> Outcome:
    seen: list[Any] = []
    try:
        result = await call()
        if not stream:
            return [result.model_dump()], None
        async for chunk in result:
            seen.append(chunk.model_dump(exclude_unset=True))
    except Exception as exc:
        return seen, f"{type(exc).__name__}: {exc}"
    return seen, None


def create(client: Any, answer: Answer) -> Callable[[], Any]:
    options: dict[str, Any] = {"stream": True} if answer.stream else {}
    return lambda: client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **options)


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    """One server for the module: each test sets its answer (a shutdown costs half a second)."""
    loopback = LoopbackServer()
    with loopback.running():
        yield loopback


@pytest.mark.parametrize("answer", ANSWERS, ids=[answer.name for answer in ANSWERS])
def test_a_hostile_answer_reads_the_same_with_and_without_tokenbudget(
    server: LoopbackServer, answer: Answer, family: str
) -> None:
    serve(server, answer)
    server.requests.clear()
    tracker = TokenTracker(prices=StubBook(), hosts={server.host: "openai"})
    with module(family).Client() as plain_http:
        plain = openai.OpenAI(
            api_key="sk-test", base_url=server.base_url, http_client=plain_http, max_retries=0
        )
        expected = outcome_of(create(plain, answer), answer.stream)
    tracked = openai.OpenAI(
        api_key="sk-test",
        base_url=server.base_url,
        http_client=tracker.httpx_client(family),
        max_retries=0,
    )
    seen = outcome_of(create(tracked, answer), answer.stream)
    tracked.close()

    assert seen == expected
    (record,) = tracker.records
    if expected[1] is None:  # the application saw a whole answer: so does the record
        assert record.error is None and record.succeeded
    if answer.stream and answer.status == 200:
        injected = [json.loads(body).get("stream_options") for _, body in server.requests]
        assert injected == [None, {"include_usage": True}], "the tracked request asked for usage"


ASYNC_ANSWERS = [
    a
    for a in ANSWERS
    if a.name
    in (
        "gzip-broken-mid-stream",
        "reset-mid-stream",
        "oversized-event",
        "bare-cr",
        "missing-content-type",
    )
]


@pytest.mark.parametrize("answer", ASYNC_ANSWERS, ids=[answer.name for answer in ASYNC_ANSWERS])
def test_a_hostile_answer_reads_the_same_through_async_clients(
    server: LoopbackServer, answer: Answer
) -> None:
    serve(server, answer)
    tracker = TokenTracker(prices=StubBook(), hosts={server.host: "openai"})

    async def both() -> tuple[Outcome, Outcome]:
        async with module("httpx2").AsyncClient() as plain_http:
            plain = openai.AsyncOpenAI(
                api_key="sk-test", base_url=server.base_url, http_client=plain_http, max_retries=0
            )
            expected = await async_outcome_of(create(plain, answer), answer.stream)
        tracked = openai.AsyncOpenAI(
            api_key="sk-test",
            base_url=server.base_url,
            http_client=tracker.async_httpx_client(),
            max_retries=0,
        )
        seen = await async_outcome_of(create(tracked, answer), answer.stream)
        await tracked.close()
        return expected, seen

    expected, seen = asyncio.run(both())

    assert seen == expected
    assert len(tracker.records) == 1
