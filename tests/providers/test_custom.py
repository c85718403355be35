"""Custom providers: the seed's manual ``track`` and a parser registered for a new host."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from tokenbudget import TokenTracker, Usage
from tokenbudget.providers.custom import CustomProvider

from ..support import Price, StubBook, async_client, module, resolve, sync_client
from .helpers import JSON, PRICES, SSE, Recorder

M = Decimal(1_000_000)
ACME = "llm.acme.internal"


@pytest.fixture
def book() -> StubBook:
    return StubBook({**PRICES, ("acme", "acme-1"): Price("2", "8", "0.5")})


def acme(tracker: TokenTracker | None = None, **kwargs: Any) -> CustomProvider:
    return CustomProvider(
        tracker=tracker,
        provider_name="acme",
        extract_model=lambda body: body["model"],
        extract_prompt_tokens=lambda body: body["usage"]["in"],
        extract_completion_tokens=lambda body: body["usage"]["out"],
        **kwargs,
    )


ANSWER = {"model": "acme-1", "text": "Bonjour !", "usage": {"in": 120, "out": 30, "cached": 100}}


# -- by hand -----------------------------------------------------------------------------


def test_track_an_sdk_object_by_hand(tracker: TokenTracker) -> None:
    provider = CustomProvider(
        tracker,
        "acme",
        lambda r: r.model,
        lambda r: r.usage.input_tokens,
        lambda r: r.usage.output_tokens,
    )
    response = SimpleNamespace(
        model="acme-1", usage=SimpleNamespace(input_tokens=10, output_tokens=5)
    )
    record = provider.track(response)
    assert (record.provider, record.model, record.endpoint) == ("acme", "acme-1", "custom")
    assert record.usage == Usage(input_tokens=10, output_tokens=5)
    assert record.cost_usd == (10 * 2 + 5 * 8) / M
    assert tracker.usage_by_provider["acme"].calls == 1


def test_track_with_cached_and_reasoning_figures(tracker: TokenTracker) -> None:
    provider = acme(
        tracker,
        extract_cached_input_tokens=lambda body: body["usage"]["cached"],
        extract_reasoning_tokens=lambda body: body["usage"].get("thinking"),
    )
    record = provider.track(ANSWER)
    assert record.usage == Usage(input_tokens=120, output_tokens=30, cached_input_tokens=100)
    assert record.cost_usd == (20 * 2 + 100 * Decimal("0.5") + 30 * 8) / M


def test_track_needs_a_tracker_and_lets_extractor_errors_through(tracker: TokenTracker) -> None:
    with pytest.raises(ValueError, match="tracker"):
        acme().track(ANSWER)
    with pytest.raises(KeyError):
        acme(tracker).track({"model": "acme-1"})
    assert acme().track(ANSWER, tracker=tracker).usage.total_tokens == 150


# -- registered for a host: the transport tracks it ----------------------------------------------


def acme_server(family: str, *, stream: bytes = b"") -> Recorder:
    routes = {"/v2/generate": (json.dumps(ANSWER).encode(), JSON)}
    if stream:
        routes["/v2/stream"] = (stream, SSE)
    return Recorder(family, routes)


async def test_registered_host_is_tracked_automatically(
    tracker: TokenTracker, family: str, mode: str
) -> None:
    acme(tracker, paths=["/v2/*"]).register(ACME)
    server = acme_server(family)
    make = async_client if mode == "async" else sync_client
    client = make(tracker, family, server)
    answer = await resolve(
        client.post(f"https://{ACME}/v2/generate", json={"model": "acme-1", "prompt": "Hi"})
    )
    assert answer.json() == ANSWER
    (record,) = tracker.records
    assert (record.provider, record.model, record.request_model) == ("acme", "acme-1", "acme-1")
    assert record.usage == Usage(input_tokens=120, output_tokens=30)
    assert tracker.usage_by_provider["acme"].input_tokens == 120
    assert record.cost_usd == (120 * 2 + 30 * 8) / M
    # Paths outside ``paths`` are passed through untracked.
    await resolve(client.post(f"https://{ACME}/admin/reload", json={"model": "acme-1"}))
    assert tracker.usage.calls == 1
    await resolve(client.aclose() if mode == "async" else client.close())


def test_registered_host_streams_with_cumulative_usage(tracker: TokenTracker, family: str) -> None:
    events = [
        {"model": "acme-1", "delta": "Bon"},
        {"delta": "jour", "usage": {"in": 120, "out": 2}},
        {"delta": " !", "usage": {"in": 120, "out": 3}},
    ]
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    acme(tracker).register(ACME)
    client = sync_client(tracker, family, acme_server(family, stream=body.encode()))
    with client.stream(
        "POST", f"https://{ACME}/v2/stream", json={"model": "acme-1", "stream": True}
    ) as answer:
        answer.read()
    (record,) = tracker.records
    assert record.stream and not record.estimated
    assert record.usage == Usage(input_tokens=120, output_tokens=3)


def test_a_failing_extractor_never_breaks_the_call(tracker: TokenTracker, family: str) -> None:
    def broken(body: Any) -> Any:
        raise RuntimeError("bug in my extractor")

    CustomProvider(tracker, "acme", broken, broken, broken).register(ACME)
    client = sync_client(tracker, family, acme_server(family))
    answer = client.post(f"https://{ACME}/v2/generate", json={"model": "acme-1", "prompt": "Hello"})
    assert answer.json() == ANSWER
    (record,) = tracker.records
    assert record.estimated
    assert record.usage.input_tokens > 0  # counted from the request's prompt


def test_global_registration_reaches_every_tracker(book: StubBook, family: str) -> None:
    host = "global.acme-tests.invalid"
    acme().register(host)
    first, second = TokenTracker(prices=book), TokenTracker(prices=book)
    for tracker in (first, second):
        mod = module(family)
        client = tracker.httpx_client(
            family=family, transport=mod.MockTransport(acme_server(family))
        )
        client.post(f"https://{host}/v2/generate", json={"model": "acme-1"})
    assert first.usage.calls == second.usage.calls == 1
