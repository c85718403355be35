"""Inner transports that hold requests at a gate, so tests control what is in flight."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx2
import openai

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM


class AsyncGate(httpx2.AsyncBaseTransport):
    """Holds each request until ``opened`` is set, then lets ``fake`` answer it."""

    def __init__(self, fake: FakeLLM) -> None:
        self.fake = fake
        self.opened = asyncio.Event()
        self.arrived = asyncio.Event()
        self.waiting = 0

    async def handle_async_request(self, request: Any) -> Any:
        self.waiting += 1
        self.arrived.set()
        try:
            await self.opened.wait()
        finally:
            self.waiting -= 1
        return await self.fake.handle_async_request(request)


class ThreadGate(httpx2.BaseTransport):
    """Sync twin of :class:`AsyncGate`, for calls made from threads."""

    def __init__(self, fake: FakeLLM) -> None:
        self.fake = fake
        self.opened = threading.Event()
        self.changed = threading.Condition()
        self.waiting = 0

    def handle_request(self, request: Any) -> Any:
        with self.changed:
            self.waiting += 1
            self.changed.notify_all()
        self.opened.wait(timeout=30)
        return self.fake.handle_request(request)


def gated_openai(tracked: TokenTracker, gate: Any, mode: str = "sync", **kw: Any) -> Any:
    """An OpenAI client whose tracked transport sends through ``gate``."""
    if mode == "async":
        http = tracked.async_httpx_client(transport=gate)
        return openai.AsyncOpenAI(api_key="sk-test", http_client=http, **kw)
    http = tracked.httpx_client(transport=gate)
    return openai.OpenAI(api_key="sk-test", http_client=http, **kw)
