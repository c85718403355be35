"""Perplexity's billed units through the real openai SDK, priced from the built-in data.

Perplexity reports its own ``usage.cost`` on current answers, and that cost wins;
these answers leave it out (older answers, gateways that strip it), so the price
data has to bill every meter itself: tokens, reasoning at its own price,
searches, and the per-request fee of the answer's ``search_context_size``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker, calculate_cost

from ..support import fixture_bytes, fixture_json, response, sync_client

M = Decimal(1_000_000)


def perplexity(tracker: TokenTracker, family: str, body: bytes, content_type: str) -> Any:
    def handler(request: Any) -> Any:
        return response(family, 200, headers={"content-type": content_type}, content=body)

    http = sync_client(tracker, family, handler)
    return openai.OpenAI(
        api_key="pplx-test", base_url="https://api.perplexity.ai", http_client=http, max_retries=0
    )


def without_cost(document: dict[str, Any]) -> dict[str, Any]:
    usage = dict(document["usage"])
    usage.pop("cost", None)
    return {**document, "usage": usage}


def test_deep_research_prices_reasoning_searches_and_citations(family: str) -> None:
    recorded = fixture_json("perplexity/chat.json")
    tracker = TokenTracker()
    body = json.dumps(without_cost(recorded)).encode()
    sdk = perplexity(tracker, family, body, "application/json")
    sdk.chat.completions.create(
        model="sonar-deep-research", messages=[{"role": "user", "content": "EV outlook"}]
    )
    (record,) = tracker.records
    assert record.usage.extra["web_search_requests"] == 18
    assert record.usage.reported_cost_usd is None
    # input and citations $2, output $8, reasoning $3 per 1M; searches $5 per 1,000
    expected = (
        (34 + 9210) * Decimal(2) + 4120 * Decimal(8) + 61231 * Decimal(3)
    ) / M + 18 * Decimal("0.005")
    assert record.cost_usd == expected
    # ...which is what Perplexity itself reported for this answer, to its 5 decimals.
    reported = Decimal(str(recorded["usage"]["cost"]["total_cost"]))
    assert record.cost_usd.quantize(Decimal("0.00001")) == reported


def test_sonar_stream_bills_the_request_fee_of_its_context_size(family: str) -> None:
    lines = []
    for line in fixture_bytes("perplexity/chat_stream.sse").decode().split("\n"):
        if line.startswith("data: {") and '"usage"' in line:
            line = "data: " + json.dumps(without_cost(json.loads(line[6:])))
        lines.append(line)
    tracker = TokenTracker()
    sdk = perplexity(tracker, family, "\n".join(lines).encode(), "text/event-stream")
    for _ in sdk.chat.completions.create(
        model="sonar", messages=[{"role": "user", "content": "Stars?"}], stream=True
    ):
        pass
    (record,) = tracker.records
    assert dict(record.usage.extra) == {"requests_low": 1}
    # $1 / $1 per 1M tokens plus $5 per 1,000 low-context requests: Perplexity's own $0.005066.
    assert record.cost_usd == Decimal("0.005066")


@pytest.mark.parametrize(
    ("model", "size", "fee"),
    [
        ("sonar", "medium", "0.008"),
        ("sonar", "high", "0.012"),
        ("sonar-pro", "low", "0.006"),
        ("sonar-pro", "medium", "0.01"),
        ("sonar-pro", "high", "0.014"),
        ("sonar-reasoning-pro", "high", "0.014"),
    ],
)
def test_request_fee_by_context_size(family: str, model: str, size: str, fee: str) -> None:
    document = without_cost(fixture_json("perplexity/chat.json"))
    document["model"] = model
    document["usage"] = {
        "prompt_tokens": 1_000,
        "completion_tokens": 500,
        "total_tokens": 1_500,
        "search_context_size": size,
    }
    tracker = TokenTracker()
    sdk = perplexity(tracker, family, json.dumps(document).encode(), "application/json")
    sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
    (record,) = tracker.records
    assert dict(record.usage.extra) == {f"requests_{size}": 1}
    tokens_only = calculate_cost(model, 1_000, 500)
    assert record.cost_usd == tokens_only + Decimal(fee)
    assert record.cost_usd == calculate_cost(model, 1_000, 500, units={f"requests_{size}": 1})


@pytest.mark.parametrize("size", [None, "huge", 3, ["low"]])
def test_unknown_context_size_adds_no_fee(family: str, size: Any) -> None:
    document = without_cost(fixture_json("perplexity/chat.json"))
    document["model"] = "sonar"
    document["usage"] = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    if size is not None:
        document["usage"]["search_context_size"] = size
    tracker = TokenTracker()
    sdk = perplexity(tracker, family, json.dumps(document).encode(), "application/json")
    sdk.chat.completions.create(model="sonar", messages=[{"role": "user", "content": "Hi"}])
    (record,) = tracker.records
    assert not record.usage.extra
    assert record.cost_usd == Decimal(15) / M
