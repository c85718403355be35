"""Helpers for the tests: fixtures on disk, a stub price book, family-agnostic mock transports."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokenbudget import TokenTracker, Usage
from tokenbudget._core import CallGuard, Exchange

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
M = Decimal(1_000_000)


def fixture_bytes(name: str) -> bytes:
    """The raw bytes of ``fixtures/<name>``."""
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    """``fixtures/<name>`` parsed as JSON."""
    return json.loads(fixture_bytes(name))


class StubBook:
    """A price book with explicit per-1M prices, so tests compute expected costs by hand.

    ``prices`` maps model -> (input, cached input, output) per 1M tokens.
    """

    version = "stub-1"

    def __init__(self, prices: dict[str, tuple[str, str, str]] | None = None) -> None:
        self.prices = {
            model: tuple(Decimal(p) for p in triple)
            for model, triple in (prices or STUB_PRICES).items()
        }
        self.calls: list[tuple[Any, ...]] = []

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
        self.calls.append((provider, model, service_tier))
        if usage.reported_cost_usd is not None:
            return usage.reported_cost_usd
        found = self.prices.get(model)
        if found is None:
            return None
        inp, cached, out = found
        uncached = usage.input_tokens - usage.cached_input_tokens
        return (uncached * inp + usage.cached_input_tokens * cached + usage.output_tokens * out) / M


STUB_PRICES = {
    "gpt-4o-2024-08-06": ("2.50", "1.25", "10.00"),
    "gpt-4o-2024-11-20": ("2.50", "1.25", "10.00"),
    "gpt-4o-mini-2024-07-18": ("0.15", "0.075", "0.60"),
    "gpt-4o-mini": ("0.15", "0.075", "0.60"),
    "gpt-4o": ("2.50", "1.25", "10.00"),
    "o3-mini-2025-01-31": ("1.10", "0.55", "4.40"),
    "gpt-4.1-2025-04-14": ("2.00", "0.50", "8.00"),
    "gpt-3.5-turbo-instruct": ("1.50", "1.50", "2.00"),
    "text-embedding-3-small": ("0.02", "0.02", "0"),
    "gpt-4o-audio-preview-2024-12-17": ("2.50", "2.50", "10.00"),
}


def cost(model: str, input_tokens: int, output_tokens: int, cached: int = 0) -> Decimal:
    """The stub book's price of a call, computed independently for assertions."""
    inp, cached_price, out = (Decimal(p) for p in STUB_PRICES[model])
    return ((input_tokens - cached) * inp + cached * cached_price + output_tokens * out) / M


def mock_transport(family: str, handler: Callable[[Any], Any], *, is_async: bool = False) -> Any:
    """``MockTransport`` of ``family`` around ``handler(request) -> Response``."""
    module = importlib.import_module(family)
    if is_async:

        async def async_handler(request: Any) -> Any:
            return handler(request)

        return module.MockTransport(async_handler)
    return module.MockTransport(handler)


def response(family: str, status: int = 200, **kwargs: Any) -> Any:
    """A ``Response`` of ``family``."""
    return importlib.import_module(family).Response(status, **kwargs)


class GatedTracker(TokenTracker):
    """A tracker whose calls pass ``gate`` instead of its budgets (the ``admit`` seam)."""

    def __init__(self, gate: Callable[[Exchange], Sequence[CallGuard]], **kwargs: Any) -> None:
        self._gate = gate
        super().__init__(**kwargs)

    def admit(self, exchange: Exchange) -> Sequence[CallGuard]:
        return self._gate(exchange)
