"""The fake Gemini API: ``models/{model}:generateContent`` and its siblings.

Serves ``generateContent``, ``streamGenerateContent`` (``alt=sse`` gives
server-sent events framed with CRLF, as Google sends them; without it, a JSON
array streamed element by element), ``embedContent``, ``batchEmbedContents``
and ``countTokens``, under ``/v1beta/`` or ``/v1/`` (and Vertex AI's
``.../publishers/google/models/...``). Prompt tokens are the tokenizer counts
of the prompt's messages, summed (``systemInstruction`` and each content, its
text parts one per line); ``candidatesTokenCount`` counts the reply text and
``thoughtsTokenCount`` the reasoning tokens, which ``totalTokenCount`` includes.
Streamed chunks repeat the cumulative ``usageMetadata``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._reply import FakeReply
from ._request import FakeRequest, Message
from ._wire import (
    Answer,
    Context,
    FakeProvider,
    Output,
    PromptTokens,
    Route,
    compact,
    count,
    embedding,
    make_output,
    pretty,
    prompt_tokens,
    sse,
    sum_tokens,
)

__all__ = ["GeminiFake"]

_PATH = re.compile(r"models/([^/:]+):([A-Za-z]+)$")
_METHODS = {
    "generateContent": "generate_content",
    "streamGenerateContent": "stream_generate_content",
    "embedContent": "embed_content",
    "batchEmbedContents": "batch_embed_contents",
    "countTokens": "count_tokens",
}
_GENERATING = ("generate_content", "stream_generate_content")
_JSON_TYPE = "application/json; charset=UTF-8"
_SSE_TYPE = "text/event-stream"
_ERRORS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
    403: ("PERMISSION_DENIED", "The caller does not have permission."),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}


def _google_compact(document: Any) -> str:
    """JSON as Google's SSE lines carry it: no newlines, a space after each colon."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ": "))


def _part_texts(content: Any) -> list[str]:
    parts = content.get("parts") if isinstance(content, Mapping) else None
    texts: list[str] = []
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, Mapping):
            continue
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part.get("functionCall"), Mapping):
            texts.append(compact(part["functionCall"].get("args", {})))
        elif isinstance(part.get("functionResponse"), Mapping):
            texts.append(compact(part["functionResponse"].get("response", {})))
    return texts


def _contents(body: Mapping[str, Any]) -> list[Message]:
    messages: list[Message] = []
    system = _part_texts(body.get("systemInstruction") or body.get("system_instruction"))
    if system:
        messages.append(Message("system", "\n".join(system)))
    contents = body.get("contents")
    for content in [contents] if isinstance(contents, Mapping) else contents or ():
        if isinstance(content, Mapping):
            role = "assistant" if content.get("role") == "model" else "user"
            messages.append(Message(role, "\n".join(_part_texts(content))))
    return messages


def _dimensions(model: str, request: Mapping[str, Any]) -> int:
    wanted = request.get("outputDimensionality")
    if isinstance(wanted, int) and wanted > 0:
        return wanted
    return 3072 if model.startswith("gemini-embedding") else 768


class GeminiFake(FakeProvider):
    """Answers Gemini API (and Vertex AI) ``models/...:method`` requests at any host."""

    name = "gemini"

    def route(self, path: str, query: str, body: Any) -> Route | None:
        found = _PATH.search(path)
        endpoint = _METHODS.get(found.group(2)) if found else None
        if found is None or endpoint is None:
            return None
        stream = endpoint == "stream_generate_content"
        return Route(endpoint, found.group(1), stream, generates=endpoint in _GENERATING)

    def messages(self, route: Route, body: Any) -> tuple[Message, ...]:
        document = body if isinstance(body, Mapping) else {}
        if route.endpoint == "embed_content":
            return (Message("user", "\n".join(_part_texts(document.get("content")))),)
        if route.endpoint == "batch_embed_contents":
            requests = document.get("requests") or ()
            return tuple(
                Message("user", "\n".join(_part_texts(item.get("content"))))
                for item in requests
                if isinstance(item, Mapping)
            )
        if route.endpoint == "count_tokens" and isinstance(
            document.get("generateContentRequest"), Mapping
        ):
            document = document["generateContentRequest"]
        return tuple(_contents(document))

    def answer(self, request: FakeRequest, reply: FakeReply, ctx: Context) -> Answer:
        body = request.body if isinstance(request.body, Mapping) else {}
        model = request.model or ""
        if request.endpoint == "embed_content":
            vector = embedding(request.prompt, _dimensions(model, body))
            return self._json({"embedding": {"values": vector}}, ctx)
        if request.endpoint == "batch_embed_contents":
            items = [item for item in body.get("requests") or () if isinstance(item, Mapping)]
            vectors = [
                {"values": embedding(message.text, _dimensions(model, item))}
                for message, item in zip(request.messages, items, strict=False)
            ]
            return self._json({"embeddings": vectors}, ctx)
        counted = sum_tokens((message.text for message in request.messages), request.model)
        prompt = prompt_tokens(reply, counted)
        if request.endpoint == "count_tokens":
            details = [{"modality": "TEXT", "tokenCount": prompt.total}]
            return self._json({"totalTokens": prompt.total, "promptTokensDetails": details}, ctx)
        config = body.get("generationConfig")
        limit = config.get("maxOutputTokens") if isinstance(config, Mapping) else None
        out = make_output(reply, request, ctx, limit=limit)
        writer = _Writer(request, reply, ctx, out, prompt)
        if not request.stream:
            return self._json(writer.chunk(out.text, final=True), ctx)
        chunks = writer.chunks()
        query = parse_qs(urlsplit(request.url).query)
        if query.get("alt") == ["sse"]:
            events = [sse(_google_compact(chunk), newline="\r\n") for chunk in chunks]
            return Answer.build(200, _SSE_TYPE, events, streamed=True)
        elements = [pretty(chunk) for chunk in chunks]
        framed = [b"[" + elements[0], *(b"\n,\r\n" + element for element in elements[1:]), b"\n]"]
        return Answer.build(200, _JSON_TYPE, framed, streamed=True)

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
        kind, text = _ERRORS.get(status, ("INTERNAL" if status >= 500 else "INVALID_ARGUMENT", ""))
        document = {
            "error": {
                "code": status,
                "message": message or text or f"HTTP {status}.",
                "status": error_type or kind,
            }
        }
        return Answer.build(status, _JSON_TYPE, [pretty(document)], (headers or {}).items())

    def _json(self, document: Any, ctx: Context) -> Answer:
        return Answer.build(200, _JSON_TYPE, [pretty(document)])


class _Writer:
    """Builds ``GenerateContentResponse`` documents, whole or as cumulative stream chunks."""

    def __init__(
        self,
        request: FakeRequest,
        reply: FakeReply,
        ctx: Context,
        out: Output,
        prompt: PromptTokens,
    ) -> None:
        self.model = request.model
        self.version = reply.model or request.model or ""
        self.response_id = ctx.ids.next("gemini-response", 22)
        self.out = out
        self.prompt = prompt
        self.finish = reply.finish_reason or ("MAX_TOKENS" if out.truncated else "STOP")

    def usage(self, candidates: int) -> dict[str, Any]:
        prompt, reasoning = self.prompt, self.out.reasoning_tokens
        usage: dict[str, Any] = {
            "promptTokenCount": prompt.total,
            "candidatesTokenCount": candidates,
            "totalTokenCount": prompt.total + candidates + reasoning,
        }
        if prompt.cached:
            usage["cachedContentTokenCount"] = prompt.cached
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt.total}]
        if prompt.cached:
            usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt.cached}]
        if reasoning:
            usage["thoughtsTokenCount"] = reasoning
        return usage

    def chunk(self, text: str, *, final: bool, candidates: int | None = None) -> dict[str, Any]:
        """One response document; ``final`` adds the finish reason and the full usage."""
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
        if final:
            candidate["finishReason"] = self.finish
            candidates = self.out.output_tokens - self.out.reasoning_tokens
        candidate["index"] = 0
        return {
            "candidates": [candidate],
            "usageMetadata": self.usage(candidates or 0),
            "modelVersion": self.version,
            "responseId": self.response_id,
        }

    def chunks(self) -> list[dict[str, Any]]:
        """The stream: one chunk per text delta, usage counted over the text so far."""
        pieces = self.out.pieces or [""]
        chunks, seen = [], ""
        for number, piece in enumerate(pieces, start=1):
            seen += piece
            final = number == len(pieces)
            chunks.append(self.chunk(piece, final=final, candidates=count(seen, self.model)))
        return chunks
