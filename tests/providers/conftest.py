"""Shared setup for the provider tests: a stub price book, fixtures, mock responses by family.

The stub book prices by ``(provider, model)`` with explicit per-1M prices and
implements the normalised conventions on purpose in the simplest way, so every
test can compute its expected cost by hand:

    uncached input = input - cached - cache writes
    cost = uncached * input + cached * cache_read + 5m writes * cache_write_5m
           + 1h writes * cache_write_1h + output * output     (all per 1M tokens)
           + per-request extras (e.g. web_search_requests)

A cost the provider reported (``usage.reported_cost_usd``) wins; ``local``
models cost zero unless priced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from tokenbudget import TokenTracker, Usage

from .helpers import FAMILIES

M = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    """Dollars per 1M tokens (and per request for ``per_request`` extras)."""

    input: str
    output: str
    cache_read: str | None = None
    cache_write_5m: str | None = None
    cache_write_1h: str | None = None
    per_request: dict[str, str] = field(default_factory=dict)


PRICES: dict[tuple[str, str], Price] = {
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


class StubBook:
    """A price book with explicit prices; records what it was asked."""

    version = "stub-providers-1"

    def __init__(self, prices: dict[tuple[str, str], Price] | None = None) -> None:
        self.prices = dict(PRICES if prices is None else prices)
        self.calls: list[dict[str, Any]] = []

    def cost(
        self,
        provider: str | None,
        model: str,
        usage: Usage,
        *,
        service_tier: str | None = None,
        batch: bool = False,
        at: Any = None,
    ) -> Decimal | None:
        self.calls.append({"provider": provider, "model": model, "service_tier": service_tier})
        if usage.reported_cost_usd is not None:
            return usage.reported_cost_usd
        price = self.prices.get((provider or "", model))
        if price is None:
            return Decimal(0) if provider == "local" else None
        return stub_cost(price, usage)


def stub_cost(price: Price, usage: Usage) -> Decimal:
    """The stub book's arithmetic (kept apart so a test can call it on purpose)."""

    def rate(value: str | None, fallback: str) -> Decimal:
        return Decimal(value if value is not None else fallback)

    write_1h = usage.cache_write_1h_tokens
    write_5m = usage.cache_write_tokens - write_1h
    tokens = (
        usage.uncached_input_tokens * Decimal(price.input)
        + usage.cached_input_tokens * rate(price.cache_read, price.input)
        + write_5m * rate(price.cache_write_5m, price.input)
        + write_1h * rate(price.cache_write_1h, price.input)
        + usage.output_tokens * Decimal(price.output)
    ) / M
    extras = sum(
        (Decimal(per) * usage.extra.get(unit, 0) for unit, per in price.per_request.items()),
        Decimal(0),
    )
    return tokens + extras


@pytest.fixture
def book() -> StubBook:
    return StubBook()


@pytest.fixture
def tracker(book: StubBook) -> TokenTracker:
    return TokenTracker(prices=book)


@pytest.fixture(params=FAMILIES)
def family(request: pytest.FixtureRequest) -> str:
    return str(request.param)
