"""Anthropic's reported tier through the real anthropic SDK: batch, priority and fast mode.

``usage.service_tier`` is ``standard``, ``priority`` or ``batch``; ``usage.speed``
is ``fast`` in fast mode. Each is priced as ``calculate_cost`` prices the same tier.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest

from tokenbudget import PriceBook, TokenTracker, calculate_cost

from ..support import sync_client
from .helpers import JSON, Recorder

MODEL = "claude-opus-4-8"  # fast mode $10/$50, batch $2.5/$12.5 per 1M
IN, OUT = 1_200, 300


def _message(usage: dict[str, Any]) -> bytes:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": IN, "output_tokens": OUT, **usage},
    }
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("reported", "tier", "batch"),
    [
        ({"service_tier": "batch"}, None, True),
        ({"service_tier": "standard", "speed": "fast"}, "fast", False),
        ({"service_tier": "standard", "speed": "standard"}, None, False),
        ({"service_tier": "standard"}, None, False),
    ],
)
def test_reported_tier_is_priced_like_calculate_cost(
    reported: dict[str, Any], tier: str | None, batch: bool
) -> None:
    tracker = TokenTracker(prices=PriceBook())
    handler = Recorder("httpx2", {"/v1/messages": (_message(reported), JSON)})
    client = anthropic.Anthropic(
        api_key="sk-ant-test", http_client=sync_client(tracker, "httpx2", handler), max_retries=0
    )
    client.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    (record,) = tracker.records
    expected = calculate_cost(MODEL, IN, OUT, provider="anthropic", service_tier=tier, batch=batch)
    assert record.cost_usd == expected
    if tier or batch:
        assert expected != calculate_cost(MODEL, IN, OUT, provider="anthropic")
