"""Gemini flex and priority tiers through the real google-genai SDK, Gemini API and Vertex AI.

The Gemini API takes ``service_tier`` in the request body (``serviceTier``) and
reports the tier served in ``usageMetadata.serviceTier``; Vertex AI takes the
``X-Vertex-AI-LLM-Shared-Request-Type`` header and reports ``usageMetadata.trafficType``.
A priority request Google downgrades to standard is billed at standard.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google import genai
from google.genai import types

from tokenbudget import PriceBook, TokenTracker, calculate_cost

from ..support import async_client, resolve, sync_client
from .helpers import JSON, SSE, Recorder

MODEL = "gemini-3.1-flash-lite-preview"  # flex $0.125/$0.75, priority $0.45/$2.70 per 1M
IN, OUT = 2_000, 500


def _answer(meta: dict[str, Any]) -> dict[str, Any]:
    usage = {"promptTokenCount": IN, "candidatesTokenCount": OUT, "totalTokenCount": IN + OUT}
    return {
        "candidates": [
            {"content": {"parts": [{"text": "ok"}], "role": "model"}, "finishReason": "STOP"}
        ],
        "usageMetadata": {**usage, **meta},
        "modelVersion": MODEL,
        "responseId": "r1",
    }


def _client(tracker: TokenTracker, family: str, handler: Recorder, **kwargs: Any) -> genai.Client:
    headers = kwargs.pop("headers", None)
    options = types.HttpOptions(
        httpx_client=sync_client(tracker, family, handler),
        httpx_async_client=async_client(tracker, family, handler),
        headers=headers,
    )
    if kwargs.get("vertexai"):
        return genai.Client(api_key="test-key", http_options=options, vertexai=True)
    return genai.Client(api_key="test-key", http_options=options)


def _expected(tier: str | None, provider: str = "google") -> Any:
    return calculate_cost(MODEL, IN, OUT, provider=provider, service_tier=tier)


@pytest.fixture
def real_tracker() -> TokenTracker:
    return TokenTracker(prices=PriceBook())


@pytest.mark.parametrize(
    ("asked", "reported", "billed"),
    [
        ("flex", {"serviceTier": "flex"}, "flex"),
        ("priority", {"serviceTier": "priority"}, "priority"),
        ("flex", {}, "flex"),  # no tier in the answer: the request's
        ("priority", {"serviceTier": "standard"}, None),  # downgraded: billed at standard
        (None, {"serviceTier": "SERVICE_TIER_FLEX"}, "flex"),
        (None, {}, None),
    ],
)
async def test_gemini_api_tier(
    real_tracker: TokenTracker,
    family: str,
    mode: str,
    asked: str | None,
    reported: dict[str, Any],
    billed: str | None,
) -> None:
    handler = Recorder(family, {":generateContent": (json.dumps(_answer(reported)).encode(), JSON)})
    client = _client(real_tracker, family, handler)
    models = client.aio.models if mode == "async" else client.models
    config = types.GenerateContentConfig(service_tier=asked) if asked else None
    await resolve(models.generate_content(model=MODEL, contents="hi", config=config))
    if asked:
        assert handler.body()["serviceTier"] == asked  # what the SDK puts on the wire
    (record,) = real_tracker.records
    assert record.cost_usd == _expected(billed)
    if billed is not None:
        assert record.cost_usd != _expected(None)


def test_gemini_stream_reports_tier(real_tracker: TokenTracker, family: str) -> None:
    chunk = json.dumps(_answer({"serviceTier": "flex"})).encode()
    handler = Recorder(
        family, {":streamGenerateContent?alt=sse": (b"data: " + chunk + b"\r\n\r\n", SSE)}
    )
    client = _client(real_tracker, family, handler)
    config = types.GenerateContentConfig(service_tier="flex")
    for _ in client.models.generate_content_stream(model=MODEL, contents="hi", config=config):
        pass
    (record,) = real_tracker.records
    assert record.service_tier == "flex"
    assert record.cost_usd == _expected("flex")


@pytest.mark.parametrize(
    ("header", "traffic", "billed"),
    [
        ("priority", "ON_DEMAND_PRIORITY", "priority"),
        ("flex", "ON_DEMAND_FLEX", "flex"),
        ("flex", None, "flex"),  # the header alone
        ("priority", "ON_DEMAND", None),  # served at standard PayGo
        (None, "ON_DEMAND_FLEX", "flex"),
    ],
)
def test_vertex_tier(
    real_tracker: TokenTracker,
    family: str,
    header: str | None,
    traffic: str | None,
    billed: str | None,
) -> None:
    meta = {"trafficType": traffic} if traffic else {}
    handler = Recorder(family, {":generateContent": (json.dumps(_answer(meta)).encode(), JSON)})
    headers = {"X-Vertex-AI-LLM-Shared-Request-Type": header} if header else None
    client = _client(real_tracker, family, handler, vertexai=True, headers=headers)
    client.models.generate_content(model=MODEL, contents="hi")
    assert handler.requests[0].url.host == "aiplatform.googleapis.com"
    (record,) = real_tracker.records
    assert record.provider == "vertex"
    assert record.cost_usd == _expected(billed, "vertex")


def test_standard_names_are_standard() -> None:
    for name in ("standard", "unspecified", "SERVICE_TIER_STANDARD", "ON_DEMAND"):
        assert calculate_cost(MODEL, IN, OUT, provider="google", service_tier=name) == (
            _expected(None)
        )
