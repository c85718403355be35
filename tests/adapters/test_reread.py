"""A body the SDK reads a second time is observed once.

openai's streams drain ``response.stream`` again after ``[DONE]`` to free the
connection. Over a network the second reading continues where the first one
stopped; over a body that can be read again (mock transports, a replayed
answer) it starts over. Either way the call's text is counted once.
"""

from __future__ import annotations

import json

from tokenbudget import TokenTracker

from ..support import StubBook, collect, resolve, response, tokens
from .helpers import MESSAGES, openai_client

WORDS = ["Hello", " there", ",", " friend", "!"]


def _sse() -> bytes:
    events = [
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
        }
        for word in WORDS
    ]
    events[-1]["choices"][0]["finish_reason"] = "stop"
    lines = [f"data: {json.dumps(event)}\n\n" for event in events] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


async def test_a_body_read_again_is_counted_once(family: str, mode: str) -> None:
    body = _sse()  # ``content=``: a body that can be read again

    def handler(request: object) -> object:
        return response(family, headers={"content-type": "text/event-stream"}, content=body)

    tracker = TokenTracker(prices=StubBook(), inject_stream_usage=False)
    client = openai_client(tracker, family, mode, handler)
    stream = await resolve(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    )
    chunks = await collect(stream)

    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "".join(WORDS)
    assert tracker.usage.calls == 1
    record = tracker.records[-1]
    assert record.estimated and record.error is None
    assert record.usage.output_tokens == tokens("".join(WORDS), "gpt-4o-mini")
