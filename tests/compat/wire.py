"""An independent server for the compatibility suite: each API's answer, with known usage.

A real HTTP server on 127.0.0.1 (:class:`tests.loopback.LoopbackServer`) answers
OpenAI chat completions, Responses and embeddings, Anthropic messages and
Gemini ``generateContent`` / ``streamGenerateContent``, as JSON or SSE, plain or
with a tool call, the way each API does. Every answer's usage comes from
:data:`FIGURES` and is written down in :attr:`WireServer.sent` as the server
sent it, so a test compares what tokenbudget recorded with what went over the
wire, never with anything tokenbudget computed.

Usage is different for every kind of answer, so a record matched to the wrong
answer cannot pass.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from ..loopback import LoopbackServer, start_response

OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
EMBEDDING_MODEL = "text-embedding-3-small"
ANTHROPIC_MODEL = "claude-haiku-4-5-20251001"
GEMINI_MODEL = "gemini-2.0-flash"

#: The arguments the server gives a tool call, by tool name (others get ``{}``).
TOOL_ARGUMENTS: dict[str, dict[str, Any]] = {
    "get_weather": {"city": "Paris"},
    "Person": {"name": "Ada", "age": 36},
}


def arguments_of(tool: str) -> dict[str, Any]:
    """What the server passes to ``tool`` (instructor streams ``Person`` as ``PartialPerson``)."""
    return TOOL_ARGUMENTS.get(tool.removeprefix("Partial"), {})


@dataclass(frozen=True)
class Sent:
    """The usage one answer carried, in the API's own terms turned into plain figures.

    ``input_tokens`` is every prompt token of the answer's usage (OpenAI's
    ``prompt_tokens``, Anthropic's ``input_tokens``, Gemini's ``promptTokenCount``:
    the server sends no cache figures, so every API's count means the same).
    """

    provider: str
    api: str
    model: str
    input_tokens: int
    output_tokens: int
    streamed: bool


#: (api, kind) -> (input, output) tokens; kind is "text", "tool", "stream" or "tool stream".
FIGURES: dict[tuple[str, str], tuple[int, int]] = {
    ("chat", "text"): (31, 7),
    ("chat", "tool"): (57, 18),
    ("chat", "stream"): (23, 11),
    ("chat", "tool stream"): (61, 19),
    ("responses", "text"): (29, 6),
    ("responses", "stream"): (33, 13),
    ("embeddings", "text"): (6, 0),
    ("messages", "text"): (25, 9),
    ("messages", "tool"): (312, 41),
    ("messages", "stream"): (19, 15),
    ("gemini", "text"): (12, 4),
    ("gemini", "tool"): (44, 16),
    ("gemini", "stream"): (17, 21),
}

GEMINI_PATH = f"/v1beta/models/{GEMINI_MODEL}"


class WireServer(LoopbackServer):
    """A loopback server that answers each API as its real service would.

    ``requests`` (from :class:`LoopbackServer`) holds every request that reached
    it; ``sent`` the usage of every answer, in order.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.routes.update(
            {
                "/v1/chat/completions": self._chat,
                "/v1/responses": self._responses,
                "/v1/embeddings": self._embeddings,
                "/v1/messages": self._messages,
                f"{GEMINI_PATH}:generateContent": self._gemini,
                f"{GEMINI_PATH}:streamGenerateContent": self._gemini_stream,
            }
        )

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT`` (Anthropic's and Gemini's base URL)."""
        return f"http://{self.host}"

    @contextmanager
    def serving(self) -> Iterator[WireServer]:
        """Run the server for the block."""
        with self.running():
            yield self

    # -- OpenAI -----------------------------------------------------------------------------

    def _chat(self, handler: BaseHTTPRequestHandler) -> None:
        body = _body(handler)
        tools = body.get("tools") or []
        answered = (body.get("messages") or [{}])[-1].get("role") == "tool"
        # a tool's result, sent back, gets a text answer
        tool = tools[0]["function"]["name"] if tools and not answered else None
        if body.get("stream"):
            usage_asked = bool((body.get("stream_options") or {}).get("include_usage"))
            self._openai_stream(handler, tool, usage_asked)
            return
        if tool is not None:
            arguments = json.dumps(arguments_of(tool))
            call = {"id": "call_1", "type": "function"}
            call["function"] = {"name": tool, "arguments": arguments}  # type: ignore[assignment]
            message: dict[str, Any] = {"role": "assistant", "content": None}
            message["tool_calls"] = [call]
            kind, finish = "tool", "tool_calls"
        else:
            message = {"role": "assistant", "content": "Hello there."}
            kind, finish = "text", "stop"
        prompt, completion = self._record("openai", "chat", kind, OPENAI_MODEL)
        _json(
            handler,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1700000000,
                "model": OPENAI_MODEL,
                "choices": [
                    {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
                ],
                "usage": _openai_usage(prompt, completion),
                "system_fingerprint": "fp_1",
            },
        )

    def _openai_stream(
        self, handler: BaseHTTPRequestHandler, tool: str | None, usage_asked: bool
    ) -> None:
        start_response(handler, {"content-type": "text/event-stream"})

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
            return _chunk(choices=[choice])

        if tool is None:
            kind, finish = "stream", "stop"
            events = [chunk({"role": "assistant", "content": ""})]
            events += [chunk({"content": word}) for word in ("Hello", " there", ".")]
        else:  # the call's arguments arrive in pieces, as OpenAI sends them
            kind, finish = "tool stream", "tool_calls"
            arguments = json.dumps(arguments_of(tool))
            head = {"index": 0, "id": "call_1", "type": "function"}
            head["function"] = {"name": tool, "arguments": ""}
            events = [chunk({"role": "assistant", "content": None, "tool_calls": [head]})]
            middle = len(arguments) // 2
            for part in (arguments[:middle], arguments[middle:]):
                events.append(
                    chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
                )
        events.append(chunk({}, finish))
        if usage_asked:  # as OpenAI does: usage only when the request asks for it
            prompt, completion = self._record("openai", "chat", kind, OPENAI_MODEL)
            events.append(_chunk(choices=[], usage=_openai_usage(prompt, completion)))
        _sse(handler, [(None, event) for event in events], done=True)

    def _responses(self, handler: BaseHTTPRequestHandler) -> None:
        body = _body(handler)
        streamed = bool(body.get("stream"))
        kind = "stream" if streamed else "text"
        prompt, completion = self._record("openai", "responses", kind, OPENAI_MODEL)
        answer = _response_object(prompt, completion)
        if not streamed:
            _json(handler, answer)
            return
        start_response(handler, {"content-type": "text/event-stream"})
        created = {**answer, "status": "in_progress", "output": [], "usage": None}
        events = [
            ("response.created", {"type": "response.created", "response": created}),
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": "Hello.",
                },
            ),
            ("response.completed", {"type": "response.completed", "response": answer}),
        ]
        _sse(handler, events, done=False)

    def _embeddings(self, handler: BaseHTTPRequestHandler) -> None:
        body = _body(handler)
        prompt, _ = self._record("openai", "embeddings", "text", EMBEDDING_MODEL)
        vector = [0.25, -0.5, 0.75]
        embedding: Any = vector
        if body.get("encoding_format") == "base64":
            embedding = base64.b64encode(struct.pack("<3f", *vector)).decode()
        _json(
            handler,
            {
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": embedding}],
                "model": EMBEDDING_MODEL,
                "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
            },
        )

    # -- Anthropic --------------------------------------------------------------------------

    def _messages(self, handler: BaseHTTPRequestHandler) -> None:
        body = _body(handler)
        if body.get("stream"):
            self._messages_stream(handler)
            return
        tools = body.get("tools") or []
        if tools:
            name = tools[0]["name"]
            content: list[dict[str, Any]] = [
                {"type": "tool_use", "id": "toolu_1", "name": name} | {"input": arguments_of(name)}
            ]
            kind, stop = "tool", "tool_use"
        else:
            content = [{"type": "text", "text": "Hello."}]
            kind, stop = "text", "end_turn"
        prompt, completion = self._record("anthropic", "messages", kind, ANTHROPIC_MODEL)
        _json(
            handler,
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": ANTHROPIC_MODEL,
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": _anthropic_usage(prompt, completion),
            },
        )

    def _messages_stream(self, handler: BaseHTTPRequestHandler) -> None:
        prompt, completion = self._record("anthropic", "messages", "stream", ANTHROPIC_MODEL)
        start_response(handler, {"content-type": "text/event-stream"})
        message = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": ANTHROPIC_MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": _anthropic_usage(prompt, 1),
        }
        block = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": "Hello."}
        final = {"stop_reason": "end_turn", "stop_sequence": None}
        events: list[tuple[str | None, dict[str, Any]]] = [
            ("message_start", {"type": "message_start", "message": message}),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0} | {"content_block": block},
            ),
            ("ping", {"type": "ping"}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {"type": "message_delta", "delta": final, "usage": {"output_tokens": completion}},
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        _sse(handler, events, done=False)

    # -- Gemini -----------------------------------------------------------------------------

    def _gemini(self, handler: BaseHTTPRequestHandler) -> None:
        body = _body(handler)
        declarations = [
            declaration
            for tool in body.get("tools") or []
            for declaration in tool.get("functionDeclarations") or []
        ]
        if declarations:
            name = declarations[0]["name"]
            parts: list[dict[str, Any]] = [
                {"functionCall": {"name": name, "args": arguments_of(name)}}
            ]
            kind = "tool"
        else:
            parts, kind = [{"text": "Hello."}], "text"
        prompt, completion = self._record("google", "gemini", kind, GEMINI_MODEL)
        _json(handler, _gemini_answer(parts, prompt, completion, "STOP"))

    def _gemini_stream(self, handler: BaseHTTPRequestHandler) -> None:
        _body(handler)
        prompt, completion = self._record("google", "gemini", "stream", GEMINI_MODEL)
        start_response(handler, {"content-type": "text/event-stream"})
        # Gemini repeats a cumulative usageMetadata on every chunk.
        first = _gemini_answer([{"text": "Hello"}], prompt, completion - 5, None)
        last = _gemini_answer([{"text": " there."}], prompt, completion, "STOP")
        for answer in (first, last):
            handler.wfile.write(b"data: " + json.dumps(answer).encode() + b"\r\n\r\n")
            handler.wfile.flush()

    # -- bookkeeping ------------------------------------------------------------------------

    def _record(self, provider: str, api: str, kind: str, model: str) -> tuple[int, int]:
        prompt, completion = FIGURES[(api, kind)]
        self.sent.append(Sent(provider, api, model, prompt, completion, kind == "stream"))
        return prompt, completion


def _body(handler: BaseHTTPRequestHandler) -> dict[str, Any]:
    """The JSON body of the request being answered (the server already read it)."""
    raw: bytes = getattr(handler, "body", b"")
    parsed: dict[str, Any] = json.loads(raw) if raw else {}
    return parsed


def _json(handler: BaseHTTPRequestHandler, answer: dict[str, Any]) -> None:
    data = json.dumps(answer).encode()
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    handler.send_header("x-request-id", "req_compat")
    handler.end_headers()
    handler.wfile.write(data)


def _sse(
    handler: BaseHTTPRequestHandler,
    events: list[tuple[str | None, dict[str, Any]]],
    *,
    done: bool,
) -> None:
    for name, data in events:
        head = f"event: {name}\n".encode() if name else b""
        handler.wfile.write(head + b"data: " + json.dumps(data).encode() + b"\n\n")
        handler.wfile.flush()
    if done:
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()


def _openai_usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def _chunk(**fields: Any) -> dict[str, Any]:
    base = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": OPENAI_MODEL,
        "system_fingerprint": "fp_1",
    }
    return base | fields


def _response_object(prompt: int, completion: int) -> dict[str, Any]:
    text = {"type": "output_text", "text": "Hello.", "annotations": []}
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed",
        "model": OPENAI_MODEL,
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [text],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        },
    }


def _anthropic_usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt,
        "output_tokens": completion,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _gemini_answer(
    parts: list[dict[str, Any]], prompt: int, completion: int, finish: str | None
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": prompt,
            "candidatesTokenCount": completion,
            "totalTokenCount": prompt + completion,
        },
        "modelVersion": GEMINI_MODEL,
    }
