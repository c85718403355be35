"""The tier prices the providers publish, and tracked calls through the openai SDK at them.

Azure Global Batch and Flex processing: 50% of Global Standard. xAI Batch API:
20% off every token type. Fireworks: batch at 50% of serverless, Priority at
its own per-model prices. Each changed entry cites the provider's page.
"""

from __future__ import annotations

import importlib
import json
from decimal import Decimal
from typing import Any

import openai
import pytest

from tokenbudget import PriceBook, TokenTracker, calculate_cost, get_price

IN, CACHED, OUT = 300_000, 50_000, 2_000  # above the 272k / 200k long-context thresholds too
HALF, EIGHT_TENTHS = Decimal("0.5"), Decimal("0.8")


def cost(model: str, provider: str, **kwargs: Any) -> Decimal:
    return calculate_cost(model, IN, OUT, cached_input_tokens=CACHED, provider=provider, **kwargs)


AZURE_BATCH = ["gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.4-pro", "gpt-5.5"]
AZURE_FLEX = [*AZURE_BATCH, "gpt-6-astra", "gpt-6-luna", "gpt-6-sol", "gpt-6.1-sol"]


@pytest.mark.parametrize("model", AZURE_BATCH)
def test_azure_global_batch_is_half_of_global_standard(model: str) -> None:
    assert cost(model, "azure", batch=True) == cost(model, "azure") * HALF
    assert cost(model, "azure", service_tier="batch") == cost(model, "azure") * HALF


@pytest.mark.parametrize("model", AZURE_FLEX)
def test_azure_flex_is_half_of_global_standard(model: str) -> None:
    assert cost(model, "azure", service_tier="flex") == cost(model, "azure") * HALF


def test_xai_grok_4_7_batch_is_20_percent_off() -> None:
    for prompt in (1_000, IN):  # both sides of the 200k long-context threshold
        standard = calculate_cost("grok-4.7", prompt, OUT, provider="xai")
        assert calculate_cost("grok-4.7", prompt, OUT, provider="xai", batch=True) == (
            standard * EIGHT_TENTHS
        )


@pytest.mark.parametrize(
    "model", ["accounts/fireworks/models/kimi-k3", "accounts/fireworks/models/gpt-oss-120b"]
)
def test_fireworks_batch_is_half_of_serverless(model: str) -> None:
    assert cost(model, "fireworks", batch=True) == cost(model, "fireworks") * HALF


@pytest.mark.parametrize(
    ("model", "prices"),
    [
        ("accounts/fireworks/models/kimi-k3", ("3.75", "0.375", "18.75")),
        ("accounts/fireworks/models/glm-5p3", ("1.75", "0.325", "5.5")),
        ("accounts/fireworks/models/qwen3p8-max", ("3", "0.375", "9")),
    ],
)
def test_fireworks_priority_prices(model: str, prices: tuple[str, str, str]) -> None:
    rates = get_price(model, "fireworks").rates(service_tier="priority")
    assert rates is not None
    assert (rates.input, rates.cached_input, rates.output) == tuple(Decimal(p) for p in prices)


def test_changed_entries_cite_the_provider_page() -> None:
    pages = {
        "azure": "learn.microsoft.com",
        "xai": "docs.x.ai/developers/pricing",
        "fireworks": "docs.fireworks.ai/serverless/pricing",
    }
    for provider, model in [
        ("azure", "gpt-5.4"),
        ("azure", "gpt-6-sol"),
        ("xai", "grok-4.7"),
        ("fireworks", "accounts/fireworks/models/kimi-k3"),
    ]:
        price = get_price(model, provider)
        assert pages[provider] in price.source
        assert price.checked.isoformat() >= "2026-12-05"


# -- through the openai SDK ----------------------------------------------------------------


def _completion(model: str, tier: str | None) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": IN,
            "completion_tokens": OUT,
            "total_tokens": IN + OUT,
            "prompt_tokens_details": {"cached_tokens": CACHED},
        },
    }
    if tier is not None:
        body["service_tier"] = tier
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("base_url", "provider", "model", "asked", "reported"),
    [
        ("https://acme.openai.azure.com/openai/v1", "azure", "gpt-5.4", "flex", "flex"),
        ("https://api.fireworks.ai/inference/v1", "fireworks", "kimi-k3", "priority", None),
        ("https://api.fireworks.ai/inference/v1", "fireworks", "kimi-k3", "priority", "priority"),
        ("https://api.fireworks.ai/inference/v1", "fireworks", "kimi-k3", "priority", "default"),
    ],
)
def test_tracked_tier_through_the_openai_sdk(
    family: str, base_url: str, provider: str, model: str, asked: str, reported: str | None
) -> None:
    tracker = TokenTracker(prices=PriceBook())
    httpx_module = importlib.import_module(family)
    sent: list[Any] = []

    def handler(request: Any) -> Any:
        sent.append(request)
        body = _completion(model, reported)
        return httpx_module.Response(
            200, content=body, headers={"content-type": "application/json"}
        )

    transport = httpx_module.MockTransport(handler)
    client = openai.OpenAI(
        api_key="test-key",
        base_url=base_url,
        http_client=tracker.httpx_client(family=family, transport=transport),
        max_retries=0,
    )
    client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "hi"}],
        service_tier=asked,  # type: ignore[arg-type]
    )
    assert json.loads(sent[0].content)["service_tier"] == asked
    (record,) = tracker.records
    assert record.provider == provider
    billed = reported or asked  # the answer's tier wins; without one, the request's
    assert record.cost_usd == cost(model, provider, service_tier=billed)
    if billed != "default":
        assert record.cost_usd != cost(model, provider)


GEMINI_TIERED = [
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.5-pro",
    "gemini-3.1-flash-lite",
    "gemini-3.1-pro-preview",
    "gemini-3.5-flash",
]


@pytest.mark.parametrize("model", GEMINI_TIERED)
def test_gemini_flex_halves_and_priority_adds_75_to_100_percent(model: str) -> None:
    # Uncached prompts: Google's "50% discount" / "75% to 100% more than standard".
    standard = calculate_cost(model, 10_000, 1_000, provider="google")
    assert calculate_cost(model, 10_000, 1_000, provider="google", service_tier="flex") == (
        standard * HALF
    )
    priority = calculate_cost(model, 10_000, 1_000, provider="google", service_tier="priority")
    assert standard * Decimal("1.75") <= priority <= standard * 2
