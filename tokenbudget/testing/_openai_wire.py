"""Builders for the OpenAI wire format: chat/completions stream chunks and Responses objects.

A streamed chat or completions answer is a series of compact ``data:`` chunks
and ``data: [DONE]``; ``stream_options.include_usage`` adds ``"usage": null`` to
every chunk and one last usage-only chunk (``"choices": []``), and each chunk
carries ``obfuscation`` padding unless ``stream_options.include_obfuscation``
is false. A streamed Responses answer is the named event sequence
``response.created``, ``response.in_progress``, ``response.output_item.added``,
``response.content_part.added``, ``response.output_text.delta``...,
``response.output_text.done``, ``response.content_part.done``,
``response.output_item.done``, ``response.completed`` (or
``response.incomplete``), numbered by ``sequence_number``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._reply import FakeReply
from ._request import FakeRequest
from ._wire import HEX, Context, Output, PromptTokens, compact, sse, token

__all__ = ["ChunkWriter", "ResponseWriter", "request_body", "service_tier"]

_TIERS = ("flex", "scale", "priority")
_DONE = b"data: [DONE]\n\n"


def request_body(request: FakeRequest) -> Mapping[str, Any]:
    """The request body as a mapping (empty when it is not one)."""
    return request.body if isinstance(request.body, Mapping) else {}


def service_tier(body: Mapping[str, Any]) -> str:
    """The tier the answer reports: the one asked for, ``default`` for auto."""
    tier = body.get("service_tier")
    if tier == "fast":
        return "priority"
    return tier if tier in _TIERS else "default"


def _obfuscation(seed: str) -> str:
    """Padding of a varying length, like the real ``obfuscation`` field."""
    return token(seed, 1 + int(token(seed, 1, HEX), 16) % 15)


class ChunkWriter:
    """Writes chat or completions chunks the way the real stream frames them."""

    def __init__(
        self, head: dict[str, Any], body: Mapping[str, Any], model_last: str | None = None
    ) -> None:
        options = body.get("stream_options")
        options = options if isinstance(options, Mapping) else {}
        self.head = head
        self.model_last = model_last
        self.with_usage = options.get("include_usage") is True
        self.obfuscate = options.get("include_obfuscation") is not False
        self.events: list[bytes] = []

    def _emit(self, choices: list[Any], usage: Any = None) -> None:
        document = {**self.head, "choices": choices}
        if self.model_last is not None:
            document["model"] = self.model_last
        if self.with_usage:
            document["usage"] = usage
        if self.obfuscate:
            document["obfuscation"] = _obfuscation(f"{self.head['id']}:{len(self.events)}")
        self.events.append(sse(compact(document)))

    def choice(self, index: int, delta: dict[str, Any], finish: str | None) -> None:
        """A chat chunk for choice ``index``."""
        self._emit([{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}])

    def text(self, text: str, finish: str | None) -> None:
        """A legacy completions chunk."""
        self._emit([{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}])

    def usage(self, usage: dict[str, Any]) -> None:
        """The usage-only chunk (when asked for), then ``[DONE]``."""
        if self.with_usage:
            self._emit([], usage)
        self.events.append(_DONE)


class ResponseWriter:
    """Builds a Responses API response object and its stream of events."""

    def __init__(
        self,
        request: FakeRequest,
        reply: FakeReply,
        ctx: Context,
        out: Output,
        prompt: PromptTokens,
    ) -> None:
        self.body = request_body(request)
        self.model = reply.model or request.model or ""
        self.ctx = ctx
        self.out = out
        self.id = "resp_" + ctx.ids.next("resp", 50, HEX)
        self.message_id = "msg_" + ctx.ids.next("resp-msg", 50, HEX)
        self.reasoning_id = "rs_" + ctx.ids.next("resp-rs", 50, HEX) if out.reasoning_tokens else ""
        self.status = "incomplete" if out.truncated else "completed"
        self.usage = {
            "input_tokens": prompt.total,
            "input_tokens_details": {
                "cached_tokens": prompt.cached,
                "cache_write_tokens": prompt.cache_write,
            },
            "output_tokens": out.output_tokens,
            "output_tokens_details": {"reasoning_tokens": out.reasoning_tokens},
            "total_tokens": prompt.total + out.output_tokens,
        }

    def part(self, text: str) -> dict[str, Any]:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}

    def message(self, status: str, content: list[Any]) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "type": "message",
            "status": status,
            "content": content,
            "role": "assistant",
        }

    def reasoning(self) -> list[dict[str, Any]]:
        if not self.reasoning_id:
            return []
        return [{"id": self.reasoning_id, "type": "reasoning", "summary": []}]

    def response(self, status: str, output: list[Any], usage: Any, tier: str) -> dict[str, Any]:
        body = self.body
        asked = body.get("reasoning")
        reasoning: Mapping[str, Any] = asked if isinstance(asked, Mapping) else {}
        text = body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"}
        incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.ctx.created,
            "status": status,
            "background": body.get("background") is True,
            "error": None,
            "incomplete_details": incomplete,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": body.get("max_tool_calls"),
            "model": self.model,
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": body.get("previous_response_id"),
            "prompt_cache_key": body.get("prompt_cache_key"),
            "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
            "safety_identifier": body.get("safety_identifier"),
            "service_tier": tier,
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": text,
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools", []),
            "top_logprobs": body.get("top_logprobs", 0),
            "top_p": body.get("top_p", 1.0),
            "truncation": body.get("truncation", "disabled"),
            "usage": usage,
            "user": body.get("user"),
            "metadata": body.get("metadata") or {},
        }

    def final(self) -> dict[str, Any]:
        """The finished response object (the JSON body, and ``response.completed``)."""
        message = self.message(self.status, [self.part(self.out.text)])
        return self.response(
            self.status, [*self.reasoning(), message], self.usage, service_tier(self.body)
        )

    def events(self) -> list[bytes]:
        """The event stream, ``response.created`` to ``response.completed``."""
        events: list[bytes] = []

        def emit(kind: str, **fields: Any) -> None:
            document = {"type": kind, "sequence_number": len(events), **fields}
            events.append(sse(compact(document), event=kind))

        requested_tier = self.body.get("service_tier") or "auto"
        started = self.response("in_progress", [], None, requested_tier)
        emit("response.created", response=started)
        emit("response.in_progress", response=started)
        index = 0
        for item in self.reasoning():
            emit("response.output_item.added", output_index=index, item=item)
            emit("response.output_item.done", output_index=index, item=item)
            index += 1
        where = {"item_id": self.message_id, "output_index": index, "content_index": 0}
        emit("response.output_item.added", output_index=index, item=self.message("in_progress", []))
        emit("response.content_part.added", **where, part=self.part(""))
        options = self.body.get("stream_options")
        obfuscate = (
            not isinstance(options, Mapping) or options.get("include_obfuscation") is not False
        )
        for piece in self.out.pieces:
            padding = {"obfuscation": _obfuscation(f"{self.id}:{len(events)}")} if obfuscate else {}
            emit("response.output_text.delta", **where, delta=piece, logprobs=[], **padding)
        emit("response.output_text.done", **where, text=self.out.text, logprobs=[])
        emit("response.content_part.done", **where, part=self.part(self.out.text))
        done = self.message(self.status, [self.part(self.out.text)])
        emit("response.output_item.done", output_index=index, item=done)
        final = "response.incomplete" if self.status == "incomplete" else "response.completed"
        emit(final, response=self.final())
        return events
