"""Grounding with Google Search through the real google-genai SDK, priced from the built-in data.

The recorded answer ran one Google Search query on gemini-2.5-pro (billed per
grounded prompt, $35 per 1,000); the same answer from a Gemini 3 model is
billed per distinct non-empty query ($14 per 1,000).
"""

from __future__ import annotations

import json
from decimal import Decimal

from tokenbudget import TokenTracker, calculate_cost

from ..support import fixture_bytes, fixture_json, resolve
from .helpers import JSON, SSE, Recorder
from .test_google import gemini


async def test_grounded_prompt_on_gemini_2(family: str, mode: str) -> None:
    tracker = TokenTracker()
    handler = Recorder(
        family, {":generateContent": (fixture_bytes("google/generate_content.json"), JSON)}
    )
    client = gemini(tracker, family, handler)
    models = client.aio.models if mode == "async" else client.models
    await resolve(models.generate_content(model="gemini-2.5-pro", contents="Acme revenue?"))
    (record,) = tracker.records
    assert dict(record.usage.extra) == {"grounded_prompts": 1, "web_search_requests": 1}
    tokens = calculate_cost("gemini-2.5-pro", 5300, 602, cached_input_tokens=4096)
    assert record.cost_usd == tokens + Decimal("0.035")


async def test_search_queries_on_gemini_3(family: str) -> None:
    document = fixture_json("google/generate_content.json")
    document["modelVersion"] = "gemini-3-pro-preview"
    document["candidates"][0]["groundingMetadata"]["webSearchQueries"] = [
        "acme q3",
        "",
        "acme q3",
        "acme 10-k",
    ]
    tracker = TokenTracker()
    handler = Recorder(family, {":generateContent": (json.dumps(document).encode(), JSON)})
    gemini(tracker, family, handler).models.generate_content(
        model="gemini-3-pro-preview", contents="Acme?"
    )
    (record,) = tracker.records
    assert record.usage.extra["web_search_requests"] == 2
    tokens = calculate_cost("gemini-3-pro-preview", 5300, 602, cached_input_tokens=4096)
    assert record.cost_usd == tokens + 2 * Decimal("0.014")


def test_stream_counts_the_queries_of_its_last_chunk(family: str) -> None:
    lines = fixture_bytes("google/stream_generate_content.sse").decode().split("\n")
    last = max(i for i, line in enumerate(lines) if line.startswith("data: "))
    chunk = json.loads(lines[last][6:])
    chunk["candidates"][0]["groundingMetadata"] = {"webSearchQueries": ["hello in portuguese"]}
    lines[last] = "data: " + json.dumps(chunk)
    tracker = TokenTracker()
    handler = Recorder(family, {":streamGenerateContent?alt=sse": ("\n".join(lines).encode(), SSE)})
    for _ in gemini(tracker, family, handler).models.generate_content_stream(
        model="gemini-2.5-flash", contents="Hi"
    ):
        pass
    (record,) = tracker.records
    assert dict(record.usage.extra) == {"grounded_prompts": 1, "web_search_requests": 1}
    tokens = calculate_cost("gemini-2.5-flash", 54, 93, reasoning_tokens=62)
    assert record.cost_usd == tokens + Decimal("0.035")
