"""Shared setup for the budget tests: a price book with round prices, SDK clients over FakeLLM."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anthropic
import openai

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM

from ..support import Price, StubBook

#: Every model costs $1 per 1M input tokens and $2 per 1M output tokens, so a
#: call of ``i`` input and ``o`` output tokens costs ``micro(i + 2 * o)``.
MODELS = ("gpt-4o-mini", "claude-sonnet-4-6", "gemini-2.5-flash")
OPENAI_MODEL, ANTHROPIC_MODEL, GEMINI_MODEL = MODELS
#: The dated snapshot real OpenAI streams name (the loopback server answers as it).
OPENAI_SNAPSHOT = "gpt-4o-mini-2024-07-18"
MESSAGES = [{"role": "user", "content": "Hi"}]
#: OpenAI's chat count of MESSAGES (o200k): 3 to prime + 3 per message + "user" + "Hi".
OPENAI_INPUT = 8
#: tokenbudget's Anthropic estimate of MESSAGES: 4 per message + "Hi"; FakeLLM bills 1.
ANTHROPIC_ESTIMATE, ANTHROPIC_INPUT = 5, 1
REPLY = "one two three four five"  # 5 tokens in o200k and cl100k


def micro(units: int) -> Decimal:
    """``units`` millionths of a dollar."""
    return Decimal(units) / 1_000_000


def book() -> StubBook:
    """The round-price book described at :data:`MODELS`."""
    return StubBook({model: Price("1", "2", "1") for model in (*MODELS, OPENAI_SNAPSHOT)})


def tracker(**kwargs: Any) -> TokenTracker:
    """A tracker pricing with :func:`book`."""
    prices: Any = book()  # a stub with PriceBook's cost()
    return TokenTracker(prices=prices, **kwargs)


def openai_client(tracked: TokenTracker, fake: FakeLLM, mode: str = "sync", **kw: Any) -> Any:
    """An OpenAI client (``mode`` sync or async) over ``fake``, tracked."""
    if mode == "async":
        http = tracked.async_httpx_client(transport=fake)
        return openai.AsyncOpenAI(api_key="sk-test", http_client=http, **kw)
    return openai.OpenAI(api_key="sk-test", http_client=tracked.httpx_client(transport=fake), **kw)


def anthropic_client(tracked: TokenTracker, fake: FakeLLM, mode: str = "sync", **kw: Any) -> Any:
    """An Anthropic client (``mode`` sync or async) over ``fake``, tracked."""
    if mode == "async":
        http = tracked.async_httpx_client(transport=fake)
        return anthropic.AsyncAnthropic(api_key="sk-ant-test", http_client=http, **kw)
    return anthropic.Anthropic(
        api_key="sk-ant-test", http_client=tracked.httpx_client(transport=fake), **kw
    )


def chat(client: Any, **kw: Any) -> Any:
    """One OpenAI chat call (a coroutine for an async client)."""
    return client.chat.completions.create(model=OPENAI_MODEL, messages=MESSAGES, **kw)


def message(client: Any, max_tokens: int = 256, **kw: Any) -> Any:
    """One Anthropic messages call (a coroutine for an async client)."""
    return client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=max_tokens, messages=MESSAGES, **kw
    )
