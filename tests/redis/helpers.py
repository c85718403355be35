"""Helpers of the Redis tests: a tracked OpenAI client over FakeLLM and its one call."""

from __future__ import annotations

from datetime import timezone
from typing import Any

import openai

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM

UTC = timezone.utc
MODEL = "gpt-5"
MESSAGES = [{"role": "user", "content": "Hi"}]


def client(tracker: TokenTracker, fake: FakeLLM) -> openai.OpenAI:
    """A sync OpenAI client over ``fake``, tracked, without SDK retries."""
    http = tracker.httpx_client(transport=fake)
    return openai.OpenAI(api_key="sk-test", http_client=http, max_retries=0)


def chat(sdk: Any, max_tokens: int = 50) -> Any:
    """One chat call to :data:`MODEL` (a coroutine for an async client)."""
    return sdk.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=max_tokens)
