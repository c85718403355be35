"""The fake Anthropic Messages API: ``/v1/messages`` and ``/v1/messages/count_tokens``.

Prompt tokens are the tokenizer counts of the prompt's messages, summed (one
message for ``system``, one per message; a message's text is its text blocks,
tool inputs as JSON and tool results, one per line). As the real API does,
``input_tokens`` excludes the prompt tokens read from or written to the cache
(``cache_read_input_tokens``, ``cache_creation_input_tokens``). Streams follow
the real event order: ``message_start`` (input usage, ``output_tokens`` 1),
``content_block_start``, ``ping``, ``content_block_delta``...,
``content_block_stop``, ``message_delta`` (the cumulative usage), ``message_stop``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._reply import FakeReply
from ._request import FakeRequest, Message
from ._wire import (
    JSON_TYPE,
    SSE_TYPE,
    Answer,
    Context,
    FakeProvider,
    PromptTokens,
    Route,
    compact,
    make_output,
    prompt_tokens,
    sse,
    sum_tokens,
)

__all__ = ["AnthropicFake"]

_ERRORS = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key lacks permission for this resource."),
    404: ("not_found_error", "Not found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error."),
    529: ("overloaded_error", "Overloaded"),
}


def _texts(content: Any) -> list[str]:
    """The text of a message's content: text blocks, tool inputs (JSON), tool results."""
    if isinstance(content, str):
        return [content]
    texts: list[str] = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "tool_use":
            texts.append(compact(block.get("input", {})))
        elif kind == "tool_result":
            texts.extend(_texts(block.get("content")))
    return texts


def _usage(prompt: PromptTokens, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt.uncached,
        "cache_creation_input_tokens": prompt.cache_write,
        "cache_read_input_tokens": prompt.cached,
        "cache_creation": {
            "ephemeral_5m_input_tokens": prompt.cache_write - prompt.cache_write_1h,
            "ephemeral_1h_input_tokens": prompt.cache_write_1h,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


class AnthropicFake(FakeProvider):
    """Answers Anthropic Messages requests (also through gateways, at any host)."""

    name = "anthropic"

    def route(self, path: str, query: str, body: Any) -> Route | None:
        if path.endswith("/v1/messages"):
            endpoint = "messages"
        elif path.endswith("/v1/messages/count_tokens"):
            endpoint = "count_tokens"
        else:
            return None
        document = body if isinstance(body, Mapping) else {}
        model = document.get("model") if isinstance(document.get("model"), str) else None
        stream = endpoint == "messages" and document.get("stream") is True
        return Route(endpoint, model, stream, generates=endpoint == "messages")

    def messages(self, route: Route, body: Any) -> tuple[Message, ...]:
        document = body if isinstance(body, Mapping) else {}
        messages: list[Message] = []
        system = _texts(document.get("system"))
        if system:
            messages.append(Message("system", "\n".join(system)))
        for item in document.get("messages") or ():
            if isinstance(item, Mapping):
                role = item.get("role")
                role = role if isinstance(role, str) else "user"
                messages.append(Message(role, "\n".join(_texts(item.get("content")))))
        return tuple(messages)

    def answer(self, request: FakeRequest, reply: FakeReply, ctx: Context) -> Answer:
        counted = sum_tokens((message.text for message in request.messages), request.model)
        prompt = prompt_tokens(reply, counted)
        if request.endpoint == "count_tokens":
            return self._json({"input_tokens": prompt.total}, ctx)
        body = request.body if isinstance(request.body, Mapping) else {}
        out = make_output(reply, request, ctx, limit=body.get("max_tokens"))
        stop = reply.finish_reason or ("max_tokens" if out.truncated else "end_turn")
        model = reply.model or request.model or ""
        message_id = "msg_01" + ctx.ids.next("msg", 22)
        if not request.stream:
            document = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": out.text}],
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": _usage(prompt, out.output_tokens),
            }
            return self._json(document, ctx)
        start: dict[str, Any] = {
            "model": model,
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": _usage(prompt, 1),
        }
        final_usage = {
            "input_tokens": prompt.uncached,
            "cache_creation_input_tokens": prompt.cache_write,
            "cache_read_input_tokens": prompt.cached,
            "output_tokens": out.output_tokens,
        }
        events = [
            _event({"type": "message_start", "message": start}),
            _event(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                }
            ),
            sse('{"type": "ping"}', event="ping"),
        ]
        for piece in out.pieces:
            text = {"type": "text_delta", "text": piece}
            events.append(_event({"type": "content_block_delta", "index": 0, "delta": text}))
        events.append(_event({"type": "content_block_stop", "index": 0}))
        stopped = {"stop_reason": stop, "stop_sequence": None}
        events.append(_event({"type": "message_delta", "delta": stopped, "usage": final_usage}))
        events.append(_event({"type": "message_stop"}))
        return Answer.build(200, SSE_TYPE, events, self._headers(ctx), streamed=True)

    def error(
        self,
        status: int,
        ctx: Context,
        *,
        message: str | None = None,
        error_type: str | None = None,
        error_code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        kind, text = _ERRORS.get(
            status, ("api_error" if status >= 500 else "invalid_request_error", f"HTTP {status}.")
        )
        head = self._headers(ctx)
        document = {
            "type": "error",
            "error": {"type": error_type or kind, "message": message or text},
            "request_id": head[0][1],
        }
        body = compact(document).encode()
        return Answer.build(status, JSON_TYPE, [body], [*head, *(headers or {}).items()])

    def _headers(self, ctx: Context) -> list[tuple[str, str]]:
        return [("request-id", "req_01" + ctx.ids.next("anthropic-request", 22))]

    def _json(self, document: Any, ctx: Context) -> Answer:
        return Answer.build(200, JSON_TYPE, [compact(document).encode()], self._headers(ctx))


def _event(document: dict[str, Any]) -> bytes:
    return sse(compact(document), event=document["type"])
