"""Helpers for the provider tests: their prices, and mock answers served in small chunks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..support import Price, module

JSON = "application/json"
SSE = "text/event-stream"

#: The providers' stub prices, by ``(provider, model)``: ``StubBook(PRICES)``.
PRICES: dict[str | tuple[str, str], Price] = {
    ("anthropic", "claude-sonnet-4-6"): Price("3", "15", "0.30", "3.75", "6"),
    ("anthropic", "claude-haiku-4-5-20251001"): Price(
        "1", "5", "0.10", "1.25", "2", {"web_search_requests": "0.01"}
    ),
    ("vertex", "claude-sonnet-4-6"): Price("3.30", "16.50", "0.33", "4.125", "6.60"),
    ("google", "gemini-2.5-pro"): Price("1.25", "10", "0.125"),
    ("google", "gemini-2.5-flash"): Price("0.30", "2.50", "0.03"),
    ("google", "gemini-2.0-flash"): Price("0.10", "0.40", "0.025"),
    ("google", "gemini-embedding-001"): Price("0.15", "0"),
    ("vertex", "gemini-2.0-flash-001"): Price("0.15", "0.60", "0.0375"),
    ("vertex", "text-embedding-005"): Price("0.025", "0"),
    ("groq", "openai/gpt-oss-120b"): Price("0.15", "0.60", "0.075"),
    ("groq", "llama-3.3-70b-versatile"): Price("0.59", "0.79"),
    ("deepseek", "deepseek-reasoner"): Price("0.55", "2.19", "0.14"),
    ("deepseek", "deepseek-chat"): Price("0.27", "1.10", "0.07"),
    ("mistral", "mistral-large-latest"): Price("2", "6"),
    ("mistral", "mistral-small-latest"): Price("0.10", "0.30"),
    ("xai", "grok-3-mini"): Price("0.30", "0.50", "0.075"),
    ("xai", "grok-4-fast-reasoning"): Price("0.20", "0.50", "0.05"),
    ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"): Price("0.88", "0.88"),
    ("fireworks", "accounts/fireworks/models/deepseek-v3p1"): Price("0.56", "1.68", "0.28"),
    ("fireworks", "accounts/fireworks/models/llama-v3p1-8b-instruct"): Price("0.20", "0.20"),
    ("perplexity", "sonar"): Price("1", "1"),
}


def chunked_stream(family: str, data: bytes, size: int = 37) -> Any:
    """A byte stream of ``family`` serving ``data`` in ``size``-byte chunks, sync or async."""
    mod = module(family)

    class Stream(mod.SyncByteStream, mod.AsyncByteStream):  # type: ignore[misc, name-defined]
        def __iter__(self) -> Iterator[bytes]:
            for i in range(0, len(data), size):
                yield data[i : i + size]

        async def __aiter__(self) -> Any:
            for i in range(0, len(data), size):
                yield data[i : i + size]

    return Stream()


def answer(family: str, data: bytes, content_type: str, *, status: int = 200) -> Any:
    """A response of ``family`` with ``data`` served in small chunks."""
    headers = {"content-type": content_type, "request-id": "req_test"}
    return module(family).Response(status, headers=headers, stream=chunked_stream(family, data))


class Recorder:
    """A mock-transport handler answering from ``{url suffix: (body, content type)}``."""

    def __init__(self, family: str, routes: dict[str, tuple[bytes, str]]) -> None:
        self.family = family
        self.routes = routes
        self.requests: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        url = str(request.url)
        for suffix, (data, content_type) in self.routes.items():
            if url.endswith(suffix):
                return answer(self.family, data, content_type)
        return module(self.family).Response(404, json={"error": {"message": "no route"}})

    def body(self, index: int = -1) -> Any:
        """The JSON body of a request the handler saw."""
        return json.loads(self.requests[index].content)
