"""Helpers shared by the test folders (a folder's own helpers live in its ``helpers.py``).

Fixture files; a stub price book whose costs a test works out by hand; call
records with chosen figures; mock transports and tracked clients of either
httpx family; calls that work on sync and async SDK clients alike; a clock
moved by hand; and a tracker whose calls pass a gate of the test's choosing.
"""

from __future__ import annotations

import importlib
import inspect
import json
import multiprocessing
import stat
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from tokenbudget import CallRecord, TokenTracker, Usage
from tokenbudget.providers import count_text_tokens

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
M = Decimal(1_000_000)
T = TypeVar("T")

#: A mock-transport handler: ``handler(request) -> Response``.
Handler = Callable[[Any], Any]


# -- fixture files -------------------------------------------------------------------------


def fixture_bytes(name: str) -> bytes:
    """The raw bytes of ``fixtures/<name>``."""
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    """``fixtures/<name>`` parsed as JSON."""
    return json.loads(fixture_bytes(name))


# -- prices -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    """Dollars per 1M tokens (and per request for ``per_request`` extras)."""

    input: str
    output: str
    cache_read: str | None = None
    cache_write_5m: str | None = None
    cache_write_1h: str | None = None
    per_request: dict[str, str] = field(default_factory=dict)


#: The default prices of :class:`StubBook`, by model, whichever provider serves it.
STUB_PRICES: dict[str | tuple[str, str], Price] = {
    "gpt-4o-2024-08-06": Price("2.50", "10.00", "1.25"),
    "gpt-4o-2024-11-20": Price("2.50", "10.00", "1.25"),
    "gpt-4o-mini-2024-07-18": Price("0.15", "0.60", "0.075"),
    "gpt-4o-mini": Price("0.15", "0.60", "0.075"),
    "gpt-4o": Price("2.50", "10.00", "1.25"),
    "o3-mini-2025-01-31": Price("1.10", "4.40", "0.55"),
    "gpt-4.1-2025-04-14": Price("2.00", "8.00", "0.50"),
    "gpt-3.5-turbo-instruct": Price("1.50", "2.00", "1.50"),
    "text-embedding-3-small": Price("0.02", "0", "0.02"),
    "gpt-4o-audio-preview-2024-12-17": Price("2.50", "10.00", "2.50"),
}


class StubBook:
    """A price book with explicit prices, so tests compute expected costs by hand.

    ``prices`` maps a ``(provider, model)`` pair, or a bare model for any
    provider, to a :class:`Price` (default :data:`STUB_PRICES`); a pair wins.
    The arithmetic is :func:`stub_cost`. A cost the provider reported
    (``usage.reported_cost_usd``) wins; a model with no price is unpriced, except
    under the ``local`` provider, where it is free. ``calls`` keeps what it was asked.
    """

    version = "stub-1"

    def __init__(self, prices: Mapping[str | tuple[str, str], Price] | None = None) -> None:
        self.prices = dict(STUB_PRICES if prices is None else prices)
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
        price = self.prices.get((provider or "", model), self.prices.get(model))
        if price is None:
            return Decimal(0) if provider == "local" else None
        return stub_cost(price, usage)


def stub_cost(price: Price, usage: Usage) -> Decimal:
    """The stub book's arithmetic: the normalised usage conventions, in the simplest way.

    uncached input = input - cached - cache writes;
    cost = uncached * input + cached * cache_read + 5m writes * cache_write_5m
    + 1h writes * cache_write_1h + output * output (all per 1M tokens),
    plus the per-request extras (e.g. ``web_search_requests``). A missing
    cache price is the input price.
    """

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


def cost(model: str, input_tokens: int, output_tokens: int, cached: int = 0) -> Decimal:
    """The default stub book's price of a call, computed independently for assertions."""
    price = STUB_PRICES[model]
    cached_price = price.cache_read or price.input
    return (
        (input_tokens - cached) * Decimal(price.input)
        + cached * Decimal(cached_price)
        + output_tokens * Decimal(price.output)
    ) / M


# -- records ------------------------------------------------------------------------------

#: Monday 2026-01-05, noon UTC: the day every made-up record starts from.
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


def record(
    model: str | None = "gpt-4o",
    input_tokens: int = 100,
    output_tokens: int = 20,
    cost: str | None = "0.00045",
    *,
    provider: str = "openai",
    at: datetime | None = None,
    days: int = 0,
    tags: Mapping[str, str] | None = None,
    cached_input_tokens: int = 0,
    cached: bool = False,
    saved: str | None = None,
    status: int | None = 200,
    error: str | None = None,
    estimated: bool = False,
    raw_usage: object = None,
    price_version: str | None = "stub-1",
    service_tier: str | None = None,
    via: str | None = None,
) -> CallRecord:
    """A record with the given figures (its timestamp ``days`` after :data:`T0`)."""
    return CallRecord(
        timestamp=(at or T0) + timedelta(days=days),
        provider=provider,
        model=model,
        endpoint="chat",
        usage=Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached_input_tokens,
            estimated=estimated,
            estimate_reason="the answer reported no usage" if estimated else None,
        ),
        cost_usd=None if cost is None else Decimal(cost),
        request_model=model,
        status_code=status,
        latency_ms=12.5,
        request_id="req_1",
        response_id="resp_1",
        cached=cached,
        saved_cost_usd=None if saved is None else Decimal(saved),
        service_tier=service_tier,
        error=error,
        tags=MappingProxyType(dict(tags or {})),
        raw_usage=raw_usage,
        price_version=price_version,
        via=via,
    )


def varied_records() -> list[CallRecord]:
    """A mix covering every figure a summary counts: tags, days, cache, errors, unpriced."""
    return [
        record("gpt-4o", 1200, 300, "0.006", tags={"feature": "search"}, raw_usage={"a": 1}),
        record("gpt-4o", 800, 100, "0.003", days=1, tags={"feature": "chat", "team": "x"}),
        record("gpt-4o-mini", 5000, 900, "0.00129", days=1, cached_input_tokens=1000),
        record("claude-sonnet-4-5", 7000, 500, "0.0285", provider="anthropic", days=2),
        record("claude-sonnet-4-5", 7000, 0, "0", provider="anthropic", cached=True, saved="0.021"),
        record("my-finetune", 300, 30, None, tags={"feature": "search"}),
        record("gpt-4o", 0, 0, "0", status=429, error="HTTP 429", days=2),
        record("gemini-2.5-flash", 50, 700, "0.00176", provider="google", estimated=True),
        record(None, 10, 0, None, provider="openai-compatible", days=3, via="llm-gw.internal"),
    ]


def record_calls(monkeypatch: Any, owner: Any, name: str, note: Callable[..., T]) -> list[T]:
    """Wrap ``owner.name`` (a function, or a class's method) for the test: each call first
    appends ``note(*args, **kwargs)`` to the list returned, then runs as before."""
    seen: list[T] = []
    original = getattr(owner, name)

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(note(*args, **kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return seen


# -- mock transports and tracked clients, of either httpx family ------------------------------


def module(family: str) -> Any:
    """The ``httpx`` or ``httpx2`` module."""
    return importlib.import_module(family)


def mock_transport(family: str, handler: Handler, *, is_async: bool = False) -> Any:
    """``MockTransport`` of ``family`` around ``handler(request) -> Response``."""
    if is_async:

        async def async_handler(request: Any) -> Any:
            return handler(request)

        return module(family).MockTransport(async_handler)
    return module(family).MockTransport(handler)


def response(family: str, status: int = 200, **kwargs: Any) -> Any:
    """A ``Response`` of ``family``."""
    return module(family).Response(status, **kwargs)


def json_answer(family: str, body: bytes = b"", **headers: str) -> Handler:
    """A handler answering every request with ``body`` (default: the OpenAI chat fixture)."""

    def handler(request: Any) -> Any:
        return response(
            family,
            200,
            headers={"content-type": "application/json", **headers},
            content=body or fixture_bytes("openai/chat.json"),
        )

    return handler


def sync_client(tracker: TokenTracker, family: str, handler: Handler) -> Any:
    """A client of ``family``, tracked by ``tracker``, over a mock transport."""
    return tracker.httpx_client(family=family, transport=mock_transport(family, handler))


def async_client(tracker: TokenTracker, family: str, handler: Handler) -> Any:
    """Async twin of :func:`sync_client`."""
    transport = mock_transport(family, handler, is_async=True)
    return tracker.async_httpx_client(family=family, transport=transport)


# -- sync and async SDK clients alike ----------------------------------------------------------


async def resolve(value: T | Any) -> Any:
    """``value``, awaited when an async SDK call returned an awaitable."""
    if inspect.isawaitable(value):
        return await value
    return value


async def collect(stream: Iterable[T] | AsyncIterable[T]) -> list[T]:
    """Every item of a sync or async SDK stream."""
    if isinstance(stream, AsyncIterable):
        return [item async for item in stream]
    return list(stream)


def tokens(text: str, model: str | None) -> int:
    """The library's token count of ``text`` (what FakeLLM reports)."""
    return count_text_tokens(text, model)[0]


# -- time and gates -------------------------------------------------------------------------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class GatedTracker(TokenTracker):
    """A tracker whose calls pass ``gate`` instead of its budgets (the ``admit`` seam).

    ``gate(exchange)`` returns the call's guards (objects with ``settle(record)``,
    ``on_progress(exchange)`` and ``watches_stream``) or raises to refuse the call.
    The exchange and guard types are internal (``tokenbudget._core``): typed ``Any`` here.
    """

    def __init__(self, gate: Callable[[Any], Sequence[Any]], **kwargs: Any) -> None:
        self._gate = gate
        super().__init__(**kwargs)

    def admit(self, exchange: Any) -> Sequence[Any]:
        return self._gate(exchange)


def file_mode(path: Path) -> int:
    """The permission bits of ``path`` (``0o600``...)."""
    return stat.S_IMODE(path.stat().st_mode)


def run_forked(target: Callable[..., object], *args: object, workers: int = 2) -> None:
    """Run ``target(*args)`` in ``workers`` forked processes at once; each must exit 0."""
    fork = multiprocessing.get_context("fork")
    processes = [fork.Process(target=target, args=args) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
