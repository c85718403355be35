"""``CallRecord.first_chunk_ms``: a stream's time to its first body chunk, through the real SDK."""

from __future__ import annotations

import time
from typing import Any

import openai

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM

from ..loopback import LoopbackServer, chat_chunk, start_response

MESSAGES = [{"role": "user", "content": "Hi"}]


def test_a_json_answer_has_no_first_chunk_time() -> None:
    tracker = TokenTracker()
    http = tracker.httpx_client(transport=FakeLLM(["Hello."]))
    openai.OpenAI(api_key="sk-fake", http_client=http).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    record = tracker.last_record
    assert record is not None and record.first_chunk_ms is None


def test_a_stream_times_its_first_chunk_not_its_end() -> None:
    def slow(handler: Any) -> None:
        start_response(handler, {"content-type": "text/event-stream"})
        handler.wfile.write(chat_chunk("Hel"))
        handler.wfile.flush()
        time.sleep(0.25)
        handler.wfile.write(chat_chunk("lo.") + b"data: [DONE]\n\n")
        handler.wfile.flush()

    server = LoopbackServer()
    server.routes["/v1/chat/completions"] = slow
    tracker = TokenTracker()
    with server.running():
        client = openai.OpenAI(
            api_key="sk-fake", base_url=server.base_url, http_client=tracker.httpx_client()
        )
        for _ in client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        ):
            pass
    record = tracker.last_record
    assert record is not None and record.first_chunk_ms is not None
    assert record.latency_ms is not None
    assert 0 < record.first_chunk_ms <= record.latency_ms - 200
