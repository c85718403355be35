"""A stream closed at the provider's final content event still gets its usage report.

SDK users often stop at ``finish_reason`` (OpenAI) or ``message_delta``
(Anthropic); the usage report comes right after. Closing then reads on for a
bounded time and size, so the call is recorded with the provider's numbers.
Against a real server on loopback, through the SDKs, sync and async.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import anthropic
import openai
import pytest

from tokenbudget import TokenTracker, Usage

from ..loopback import LoopbackServer, chat_chunk, start_response
from ..support import StubBook, async_client, resolve, sync_client
from .helpers import Pieces, streamed

USAGE_CHUNK = (
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,'
    b'"model":"gpt-4o-mini-2024-07-18","choices":[],'
    b'"usage":{"prompt_tokens":8,"completion_tokens":3,"total_tokens":11}}\n\n'
    b"data: [DONE]\n\n"
)
MESSAGES = [{"role": "user", "content": "Hi"}]


def finish_chunk(reason: str = "stop") -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": {}, "finish_reason": reason}],
        "usage": None,
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    with server.running():
        yield server


class Tail:
    """What the server does after the final content event: wait, then send ``rest`` (or never)."""

    def __init__(self, rest: bytes | None, delay: float = 0.2) -> None:
        self.rest = rest
        self.delay = delay
        self.release = threading.Event()

    def send(self, handler: BaseHTTPRequestHandler) -> None:
        if self.rest is None:
            self.release.wait(30)  # hold the connection open, send nothing more
            return
        time.sleep(self.delay)  # the usage report comes a little after the content
        handler.wfile.write(self.rest)
        handler.wfile.flush()


def openai_route(tail: Tail) -> Any:
    def route(handler: BaseHTTPRequestHandler) -> None:
        start_response(handler, {"content-type": "text/event-stream"})
        for piece in (chat_chunk("Hel"), chat_chunk("lo"), finish_chunk()):
            handler.wfile.write(piece)
        handler.wfile.flush()
        tail.send(handler)

    return route


def openai_client(tracker: TokenTracker, server: LoopbackServer, family: str, mode: str) -> Any:
    if mode == "async":
        http: Any = tracker.async_httpx_client(family=family)
        return openai.AsyncOpenAI(api_key="sk-test", base_url=server.base_url, http_client=http)
    http = tracker.httpx_client(family=family)
    return openai.OpenAI(api_key="sk-test", base_url=server.base_url, http_client=http)


async def break_at_finish_reason(client: Any, mode: str) -> list[str]:
    """The common pattern: read until a choice says it is finished, then close."""
    stream = await resolve(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    )
    texts = []
    if mode == "async":
        async with stream:
            async for chunk in stream:
                if chunk.choices[0].finish_reason:
                    break
                texts.append(chunk.choices[0].delta.content)
    else:
        with stream:
            for chunk in stream:
                if chunk.choices[0].finish_reason:
                    break
                texts.append(chunk.choices[0].delta.content)
    return texts


async def test_closing_at_finish_reason_waits_for_the_usage_chunk(
    server: LoopbackServer, family: str, mode: str
) -> None:
    server.routes["/v1/chat/completions"] = openai_route(Tail(USAGE_CHUNK))
    tracker = TokenTracker(prices=StubBook(), hosts={server.host: "openai"})

    texts = await break_at_finish_reason(openai_client(tracker, server, family, mode), mode)

    assert texts == ["Hel", "lo"]
    (record,) = tracker.records
    assert record.error is None and not record.estimated
    assert record.usage == Usage(input_tokens=8, output_tokens=3)


async def test_closing_at_finish_reason_gives_up_on_a_usage_that_never_comes(
    server: LoopbackServer, family: str, mode: str
) -> None:
    tail = Tail(None)
    server.routes["/v1/chat/completions"] = openai_route(tail)
    tracker = TokenTracker(prices=StubBook(), hosts={server.host: "openai"})
    started = time.monotonic()
    try:
        texts = await break_at_finish_reason(openai_client(tracker, server, family, mode), mode)
    finally:
        tail.release.set()
    waited = time.monotonic() - started

    assert texts == ["Hel", "lo"]
    (record,) = tracker.records
    assert record.error == "abandoned" and record.estimated
    assert record.usage.estimate_reason == "the stream ended before the provider's end marker"
    assert record.usage.input_tokens == 8 and record.usage.output_tokens >= 1
    assert waited < 15, "the close waited for the client's read timeout, not its own bound"


def test_closing_mid_content_does_not_wait(server: LoopbackServer, family: str) -> None:
    """Before the final event the caller wants out: the stream is closed at once."""
    tail = Tail(None)

    def route(handler: BaseHTTPRequestHandler) -> None:
        start_response(handler, {"content-type": "text/event-stream"})
        handler.wfile.write(chat_chunk("Hel"))
        handler.wfile.flush()
        tail.send(handler)

    server.routes["/v1/chat/completions"] = route
    tracker = TokenTracker(prices=StubBook(), hosts={server.host: "openai"})
    client = openai_client(tracker, server, family, "sync")
    try:
        with client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        ) as stream:
            next(iter(stream))
    finally:
        tail.release.set()
    assert tracker.records[-1].error == "abandoned"


# -- Anthropic: message_delta, then message_stop ----------------------------------------------

ANTHROPIC_HEAD = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1",'
    b'"type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929",'
    b'"stop_reason":null,"usage":{"input_tokens":12,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Hello"}}\n\n'
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",'
    b'"stop_sequence":null},"usage":{"output_tokens":5}}\n\n'
)
ANTHROPIC_STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


async def test_closing_at_message_delta_waits_for_message_stop(
    server: LoopbackServer, mode: str
) -> None:
    tail = Tail(ANTHROPIC_STOP)

    def route(handler: BaseHTTPRequestHandler) -> None:
        start_response(handler, {"content-type": "text/event-stream"})
        handler.wfile.write(ANTHROPIC_HEAD)
        handler.wfile.flush()
        tail.send(handler)

    server.routes["/v1/messages"] = route
    tracker = TokenTracker(prices=StubBook(), hosts={server.host: "anthropic"})
    base_url = f"http://{server.host}"
    if mode == "async":
        aclient = anthropic.AsyncAnthropic(
            api_key="k", base_url=base_url, http_client=tracker.async_httpx_client()
        )
        stream = await aclient.messages.create(
            model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES, stream=True
        )
        async with stream:
            async for event in stream:
                if event.type == "message_delta":
                    break
    else:
        client = anthropic.Anthropic(
            api_key="k", base_url=base_url, http_client=tracker.httpx_client()
        )
        with client.messages.create(
            model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES, stream=True
        ) as sync_stream:
            for event in sync_stream:
                if event.type == "message_delta":
                    break

    (record,) = tracker.records
    assert record.error is None and not record.estimated
    assert record.usage == Usage(input_tokens=12, output_tokens=5)


# -- LiteLLM's access pattern (litellm itself is not a dev dependency) -----------------------


def anthropic_events() -> list[bytes]:
    """The Anthropic stream above, one event per body piece (as a chunked answer arrives)."""
    return [event + b"\n\n" for event in (ANTHROPIC_HEAD + ANTHROPIC_STOP).split(b"\n\n")[:-1]]


class LineReader:
    """What LiteLLM's Anthropic handler reads: SSE lines, until a line after the stop reason.

    ``iter_sse_lines(response.iter_text())`` gives it lines; the line after
    ``message_delta`` (the blank one ending that event) turns into an empty chunk, and
    a chunk without content after the stop reason makes its stream wrapper stop and
    close the response: ``message_stop`` is never read.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._buffer = ""
        self._finished = False

    def take(self, text: str) -> bool:
        """Take one piece of text; True once the reader stops."""
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self.seen.append(line)
            if self._finished:
                return True
            self._finished = '"stop_reason":"end_turn"' in line
        return False


@pytest.mark.parametrize("ending", ["close", "drop"])
async def test_litellm_closing_after_the_stop_reason_is_a_complete_call(
    family: str, mode: str, ending: str
) -> None:
    """``close``: LiteLLM keeps its line iterator and closes the response;
    ``drop``: a plain httpx caller lets go of ``iter_text()`` there and never closes."""
    tracker = TokenTracker(prices=StubBook())
    make = async_client if mode == "async" else sync_client
    client = make(tracker, family, streamed(family, Pieces(anthropic_events())))
    request = client.build_request(
        "POST",
        "https://api.anthropic.com/v1/messages",
        json={"model": "claude-sonnet-4-5", "max_tokens": 9, "messages": MESSAGES, "stream": True},
    )
    reader = LineReader()
    if mode == "async":
        response = await client.send(request, stream=True)
        atexts = response.aiter_text()
        async for text in atexts:
            if reader.take(text):
                break
        if ending == "close":
            await response.aclose()
        del atexts
        for _ in range(20):  # the loop closes the async generators let go of, layer by layer
            await asyncio.sleep(0)
    else:
        response = client.send(request, stream=True)
        texts = response.iter_text()
        for text in texts:
            if reader.take(text):
                break
        if ending == "close":
            response.close()
        del texts  # "drop" never closes the response

    seen = reader.seen
    assert seen[-2].startswith("data:") and seen[-1] == ""
    assert not any("message_stop" in line for line in seen)
    (record,) = tracker.records
    assert record.error is None and not record.estimated
    assert record.usage == Usage(input_tokens=12, output_tokens=5)
