"""Which Anthropic endpoint a request is for, and its input counted before it is sent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..._core import Endpoint, RequestView, UsageReader
from .._base import Provider
from .._tokens import count_text_tokens
from ._reader import AnthropicReader

__all__ = ["AnthropicProvider", "count_messages_input"]

_MESSAGES = "/v1/messages"
_COUNT_TOKENS = "/v1/messages/count_tokens"


class AnthropicProvider(Provider):
    """The Anthropic Messages API at api.anthropic.com (or any host that speaks it)."""

    api = "Anthropic"

    def __init__(self, name: str = "anthropic") -> None:
        self.name = name

    def match(self, request: RequestView) -> Endpoint | None:
        if request.method != "POST":
            return None
        path = request.path.rstrip("/")
        if path.endswith(_COUNT_TOKENS):
            kind, billable = "count_tokens", False
        elif path.endswith(_MESSAGES):
            kind, billable = "messages", True
        else:
            return None
        body = request.json
        if not isinstance(body, Mapping):
            return None
        model = body.get("model")
        return Endpoint(
            provider=self.name,
            kind=kind,
            handler=self,
            request_model=model if isinstance(model, str) else None,
            stream=billable and body.get("stream") is True,
            billable=billable,
            host=request.host,
        )

    def reader(self, endpoint: Endpoint) -> UsageReader:
        return AnthropicReader(endpoint)

    def estimate_input_tokens(self, endpoint: Endpoint, request: RequestView) -> int:
        body = request.json
        if not isinstance(body, Mapping):
            return 0
        return count_messages_input(body, endpoint.request_model)

    def max_output_tokens(self, endpoint: Endpoint, request: RequestView) -> int | None:
        if not endpoint.billable:
            return 0
        body = request.json
        value = body.get("max_tokens") if isinstance(body, Mapping) else None
        return value if isinstance(value, int) else None


def count_messages_input(body: Mapping[str, Any], model: str | None) -> int:
    """Input tokens of a Messages request, counted locally (an approximation).

    Counts the system prompt, every text, thinking, tool input and tool result of
    the messages, and the tool definitions, with a small overhead per message.
    """
    texts: list[str] = []
    _collect(body.get("system"), texts)
    messages = body.get("messages")
    overhead = 0
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, Mapping):
                overhead += 4
                _collect(message.get("content"), texts)
    for tool in body.get("tools") or ():
        if isinstance(tool, Mapping):
            texts.append(json.dumps(tool, ensure_ascii=False, separators=(",", ":")))
    return overhead + sum(count_text_tokens(text, model)[0] for text in texts if text)


def _collect(content: Any, texts: list[str]) -> None:
    """Append the countable text of a content string or list of content blocks."""
    if isinstance(content, str):
        texts.append(content)
        return
    if not isinstance(content, list):
        return
    for block in content:
        if not isinstance(block, Mapping):
            continue
        for key in ("text", "thinking"):
            if isinstance(block.get(key), str):
                texts.append(block[key])
        if "input" in block and block.get("type") in ("tool_use", "server_tool_use"):
            texts.append(json.dumps(block["input"], ensure_ascii=False, separators=(",", ":")))
        if block.get("type") == "tool_result":
            _collect(block.get("content"), texts)
