"""The fake OpenAI API: chat completions, Responses, legacy completions, embeddings.

Prompt tokens are counted exactly as tokenbudget's own OpenAI estimator counts
them (:mod:`tokenbudget.providers.openai`), so a test can predict them; output
tokens are the tokenizer count of the reply text (plus reasoning tokens).
Whole bodies are pretty-printed JSON, as the real API sends them; the stream
formats are built in :mod:`._openai_wire`. Embeddings are deterministic unit
vectors of the input text, as floats or base64 (the SDK's default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..providers.openai import (
    azure_deployment,
    count_chat_prompt,
    count_prompt,
    count_responses_prompt,
    endpoint_kind,
    message_text,
)
from ._openai_wire import ChunkWriter, ResponseWriter, request_body, service_tier
from ._reply import FakeReply
from ._request import FakeRequest, Message
from ._wire import (
    HEX,
    JSON_TYPE,
    SSE_TYPE,
    Answer,
    Context,
    FakeProvider,
    PromptTokens,
    Route,
    base64_floats,
    compact,
    embedding,
    make_output,
    pretty,
    prompt_tokens,
    token,
)

__all__ = ["OpenAIFake"]

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", None, "You are not allowed to sample from this model."),
    404: ("invalid_request_error", "unknown_url", "Not found."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
_DIMENSIONS = {"text-embedding-3-large": 3072}


def _role(role: Any) -> str:
    if role in ("system", "developer"):
        return "system"
    return role if isinstance(role, str) else "user"


def _texts(value: Any) -> list[str]:
    """Prompt strings of a completions ``prompt`` or embeddings ``input`` (not token ids)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _limit(body: Mapping[str, Any], *keys: str) -> Any:
    return next((body[key] for key in keys if body.get(key) is not None), None)


def _chat_usage(prompt: PromptTokens, completion: int, reasoning: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt.total,
        "completion_tokens": completion,
        "total_tokens": prompt.total + completion,
        "prompt_tokens_details": {"cached_tokens": prompt.cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class OpenAIFake(FakeProvider):
    """Answers OpenAI-shaped requests at any host (api.openai.com, Azure, gateways)."""

    name = "openai"

    def route(self, path: str, query: str, body: Any) -> Route | None:
        kind = endpoint_kind(path)
        if kind is None:
            return None
        document = body if isinstance(body, Mapping) else {}
        model = document.get("model")
        if not isinstance(model, str):
            model = azure_deployment(path)
        stream = document.get("stream") is True and kind != "embeddings"
        return Route(kind, model, stream, generates=kind != "embeddings")

    def messages(self, route: Route, body: Any) -> tuple[Message, ...]:
        document = body if isinstance(body, Mapping) else {}
        if route.endpoint == "chat":
            return tuple(
                Message(_role(item.get("role")), message_text(item.get("content")))
                for item in document.get("messages") or ()
                if isinstance(item, Mapping)
            )
        if route.endpoint == "responses":
            return _response_messages(document)
        key = "input" if route.endpoint == "embeddings" else "prompt"
        return tuple(Message("user", text) for text in _texts(document.get(key)))

    def answer(self, request: FakeRequest, reply: FakeReply, ctx: Context) -> Answer:
        render: Callable[[FakeRequest, FakeReply, Context], Answer] = {
            "chat": self._chat,
            "responses": self._responses,
            "completions": self._completions,
            "embeddings": self._embeddings,
        }[request.endpoint]
        return render(request, reply, ctx)

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
        kind, code, text = _ERRORS.get(
            status,
            ("server_error" if status >= 500 else "invalid_request_error", None, f"HTTP {status}."),
        )
        document = {
            "error": {
                "message": message or text,
                "type": error_type or kind,
                "param": None,
                "code": error_code or code,
            }
        }
        return Answer.build(
            status, JSON_TYPE, [pretty(document)], [*self._headers(ctx), *(headers or {}).items()]
        )

    # -- helpers -----------------------------------------------------------------------

    def _headers(self, ctx: Context) -> list[tuple[str, str]]:
        return [
            ("x-request-id", "req_" + ctx.ids.next("openai-request", 32, HEX)),
            ("openai-version", "2020-10-01"),
            ("openai-processing-ms", "1"),
        ]

    def _json(self, document: Any, ctx: Context) -> Answer:
        return Answer.build(200, JSON_TYPE, [pretty(document)], self._headers(ctx))

    def _stream(self, events: list[bytes], ctx: Context) -> Answer:
        return Answer.build(200, SSE_TYPE, events, self._headers(ctx), streamed=True)

    # -- chat completions ------------------------------------------------------------------

    def _chat(self, request: FakeRequest, reply: FakeReply, ctx: Context) -> Answer:
        body = request_body(request)
        model = reply.model or request.model or ""
        n = body.get("n")
        choices = n if isinstance(n, int) and n > 1 else 1
        limit = _limit(body, "max_completion_tokens", "max_tokens")
        out = make_output(reply, request, ctx, limit=limit)
        prompt = prompt_tokens(reply, count_chat_prompt(body.get("messages"), request.model))
        completion = (
            reply.output_tokens
            if reply.output_tokens is not None
            else choices * out.text_tokens + out.reasoning_tokens
        )
        usage = _chat_usage(prompt, completion, out.reasoning_tokens)
        finish = reply.finish_reason or ("length" if out.truncated else "stop")
        head = {
            "id": "chatcmpl-" + ctx.ids.next("chatcmpl", 29),
            "object": "chat.completion",
            "created": ctx.created,
            "model": model,
        }
        fingerprint = "fp_" + token(model, 10, HEX)
        if not request.stream:
            message: dict[str, Any] = {
                "role": "assistant",
                "content": out.text,
                "refusal": None,
                "annotations": [],
            }
            document = {
                **head,
                "choices": [
                    {"index": i, "message": message, "logprobs": None, "finish_reason": finish}
                    for i in range(choices)
                ],
                "usage": usage,
                "service_tier": service_tier(body),
                "system_fingerprint": fingerprint,
            }
            return self._json(document, ctx)
        head["object"] = "chat.completion.chunk"
        head.update(service_tier=service_tier(body), system_fingerprint=fingerprint)
        chunks = ChunkWriter(head, body)
        for index in range(choices):
            delta: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
            chunks.choice(index, delta, None)
            for piece in out.pieces:
                chunks.choice(index, {"content": piece}, None)
            chunks.choice(index, {}, finish)
        chunks.usage(usage)
        return self._stream(chunks.events, ctx)

    # -- legacy completions --------------------------------------------------------------

    def _completions(self, request: FakeRequest, reply: FakeReply, ctx: Context) -> Answer:
        body = request_body(request)
        model = reply.model or request.model or ""
        limit = body.get("max_tokens")
        out = make_output(reply, request, ctx, limit=16 if limit is None else limit)
        prompt = prompt_tokens(reply, count_prompt(body.get("prompt"), request.model))
        usage = {
            "prompt_tokens": prompt.total,
            "completion_tokens": out.output_tokens,
            "total_tokens": prompt.total + out.output_tokens,
        }
        finish = reply.finish_reason or ("length" if out.truncated else "stop")
        rid = "cmpl-" + ctx.ids.next("cmpl", 29)
        if not request.stream:
            choice = {"text": out.text, "index": 0, "logprobs": None, "finish_reason": finish}
            document = {
                "id": rid,
                "object": "text_completion",
                "created": ctx.created,
                "model": model,
                "choices": [choice],
                "usage": usage,
            }
            return self._json(document, ctx)
        head = {"id": rid, "object": "text_completion", "created": ctx.created}
        chunks = ChunkWriter(head, body, model_last=model)
        for piece in out.pieces:
            chunks.text(piece, None)
        chunks.text("", finish)
        chunks.usage(usage)
        return self._stream(chunks.events, ctx)

    # -- embeddings --------------------------------------------------------------------------

    def _embeddings(self, request: FakeRequest, reply: FakeReply, ctx: Context) -> Answer:
        body = request_body(request)
        model = reply.model or request.model or ""
        raw = body.get("input")
        items = raw if isinstance(raw, list) and raw and not isinstance(raw[0], int) else [raw]
        dimensions = body.get("dimensions")
        if not isinstance(dimensions, int) or dimensions < 1:
            dimensions = _DIMENSIONS.get(model, 1536)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, item in enumerate(items):
            vector = embedding(item if isinstance(item, str) else compact(item), dimensions)
            data.append(
                {
                    "object": "embedding",
                    "index": index,
                    "embedding": base64_floats(vector) if as_base64 else vector,
                }
            )
        prompt = prompt_tokens(reply, count_prompt(raw, request.model))
        usage = {"prompt_tokens": prompt.total, "total_tokens": prompt.total}
        document = {"object": "list", "data": data, "model": model, "usage": usage}
        return self._json(document, ctx)

    # -- Responses ---------------------------------------------------------------------------

    def _responses(self, request: FakeRequest, reply: FakeReply, ctx: Context) -> Answer:
        body = request_body(request)
        out = make_output(reply, request, ctx, limit=body.get("max_output_tokens"))
        counted = count_responses_prompt(body.get("instructions"), body.get("input"), request.model)
        writer = ResponseWriter(request, reply, ctx, out, prompt_tokens(reply, counted))
        if not request.stream:
            return self._json(writer.final(), ctx)
        return self._stream(writer.events(), ctx)


def _response_messages(body: Mapping[str, Any]) -> tuple[Message, ...]:
    messages: list[Message] = []
    if isinstance(body.get("instructions"), str):
        messages.append(Message("system", body["instructions"]))
    items = body.get("input")
    if isinstance(items, str):
        return (*messages, Message("user", items))
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping):
            continue
        if "role" in item:
            messages.append(Message(_role(item["role"]), message_text(item.get("content"))))
        elif isinstance(item.get("output"), str):
            messages.append(Message("tool", item["output"]))
    return tuple(messages)
