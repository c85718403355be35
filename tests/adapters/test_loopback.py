"""Against a real HTTP server on loopback: streaming is teed, not buffered; gzip; flat memory."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import openai
import pytest

from tokenbudget import TokenTracker, Usage

from ..loopback import LoopbackServer, chat_chunk, start_response
from ..support import StubBook, fixture_bytes, record_calls

HERE = Path(__file__).resolve().parent


@pytest.fixture
def server() -> LoopbackServer:
    return LoopbackServer()


USAGE_CHUNK = (
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,'
    b'"model":"gpt-4o-mini-2024-07-18","choices":[],'
    b'"usage":{"prompt_tokens":8,"completion_tokens":3,"total_tokens":11}}\n\n'
    b"data: [DONE]\n\n"
)


def test_sse_chunks_reach_the_caller_one_by_one(server: LoopbackServer, family: str) -> None:
    """The server sends each chunk only after the caller has received the previous one."""
    words = ["one", " two", " three"]
    received = [threading.Event() for _ in words]
    waited_in_vain: list[int] = []

    def route(handler: BaseHTTPRequestHandler) -> None:
        start_response(handler, {"content-type": "text/event-stream"})
        for index, word in enumerate(words):
            handler.wfile.write(chat_chunk(word))
            handler.wfile.flush()
            if not received[index].wait(timeout=10):
                waited_in_vain.append(index)
        handler.wfile.write(USAGE_CHUNK)

    server.routes["/v1/chat/completions"] = route
    tracker = TokenTracker(prices=StubBook(), hosts={server.host: "openai"})
    with server.running():
        client = openai.OpenAI(
            api_key="sk-test", base_url=server.base_url, http_client=tracker.httpx_client(family)
        )
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        texts = []
        for index, item in enumerate(stream):
            texts.append(item.choices[0].delta.content)
            received[index].set()
    assert waited_in_vain == [], "a chunk was held back until a later one arrived"
    assert texts == words
    assert tracker.records[-1].usage == Usage(input_tokens=8, output_tokens=3)
    assert json.loads(server.requests[0][1])["stream_options"] == {"include_usage": True}


def test_gzip_json_from_a_real_server(
    server: LoopbackServer, family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoded for the reading, and that reading is the SDK's document (parsed once)."""
    plain = fixture_bytes("openai/chat.json")
    body = gzip.compress(plain)
    parsed = record_calls(monkeypatch, json, "loads", lambda data, **_: data)

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-encoding", "gzip")
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server.routes["/v1/chat/completions"] = route
    tracker = TokenTracker(prices=StubBook(), hosts={server.host: "openai"})
    with server.running():
        client = openai.OpenAI(
            api_key="sk-test", base_url=server.base_url, http_client=tracker.httpx_client(family)
        )
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]
        )
        result = raw.parse()
    assert result.usage is not None and result.usage.total_tokens == 29
    assert tracker.records[-1].usage == Usage(input_tokens=19, output_tokens=10)
    assert raw.http_response.content == plain and plain not in parsed


def test_50mb_stream_in_flat_memory(server: LoopbackServer) -> None:
    """A 50 MB SSE stream through the tracked client grows peak RSS by under 5 MB."""
    event = chat_chunk("x" * 900)
    count = 52 * 1024 * 1024 // len(event)

    def route(handler: BaseHTTPRequestHandler) -> None:
        start_response(handler, {"content-type": "text/event-stream"})
        batch = event * 64
        for _ in range(count // 64):
            handler.wfile.write(batch)
        handler.wfile.write(USAGE_CHUNK)

    server.routes["/v1/chat/completions"] = route
    with server.running():
        result = subprocess.run(
            [sys.executable, str(HERE / "stream_memory_probe.py"), server.base_url],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["bytes"] >= 50 * 1024 * 1024
    assert report["usage"] == [8, 3]
    assert report["rss_growth_kb"] < 5 * 1024, report
