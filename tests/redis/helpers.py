"""Shared pieces of the Redis tests: records, a hand-moved clock, a tracked OpenAI client."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import openai

from tokenbudget import CallRecord, TokenTracker, Usage
from tokenbudget.testing import FakeLLM

UTC = timezone.utc
MODEL = "gpt-5"
MESSAGES = [{"role": "user", "content": "Hi"}]


def record(
    cost: str | None,
    tokens: int = 100,
    *,
    when: datetime | None = None,
    provider: str = "openai",
    model: str = "gpt-4o",
    tags: Mapping[str, str] | None = None,
    output: int = 0,
    **fields: Any,
) -> CallRecord:
    """A call record with these figures."""
    return CallRecord(
        timestamp=when or datetime(2026, 1, 1, 12, tzinfo=UTC),
        provider=provider,
        model=model,
        endpoint="chat",
        usage=Usage(input_tokens=tokens, output_tokens=output),
        cost_usd=None if cost is None else Decimal(cost),
        tags=dict(tags or {}),
        **fields,
    )


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def client(tracker: TokenTracker, fake: FakeLLM) -> openai.OpenAI:
    """A sync OpenAI client over ``fake``, tracked, without SDK retries."""
    http = tracker.httpx_client(transport=fake)
    return openai.OpenAI(api_key="sk-test", http_client=http, max_retries=0)


def chat(sdk: Any, max_tokens: int = 50) -> Any:
    """One chat call to :data:`MODEL` (a coroutine for an async client)."""
    return sdk.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=max_tokens)
