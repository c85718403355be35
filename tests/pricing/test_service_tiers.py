"""Service tiers and batch: one rule for ``calculate_cost`` and for tracking, every provider.

``service_tier="batch"`` is ``batch=True``; tier names are case-insensitive and
the providers' spellings (``SERVICE_TIER_FLEX``, ``ON_DEMAND_FLEX``) fold together.
The property test checks every model of the built-in data that sells a tier: a
tracked call whose answer reports that tier costs what ``calculate_cost`` says.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenbudget import PriceBook, TokenTracker, calculate_cost
from tokenbudget.pricing import list_models


def _tiered() -> list[tuple[str, str, str]]:
    """``(provider, model, tier)`` of every built-in model with a flex/priority/batch sheet."""
    found = []
    for model, price in sorted(PriceBook.default().models().items()):
        if price.origin != "built-in" or not price.priced:
            continue
        period = price.describe()["prices"][-1]
        for tier in period.get("service_tiers", {}):
            found.append((price.provider, model, tier))
        if "batch" in period:
            found.append((price.provider, model, "batch"))
    return found


TIERED = _tiered()
#: The rows a per-call answer can report: Gemini's Batch API answers in result files,
#: never as a generateContent answer, so its batch rows are priced by calculate_cost only.
TRACKABLE = [row for row in TIERED if not (row[0] == "google" and row[2] == "batch")]


def test_the_data_has_tiers_for_every_provider_that_sells_them() -> None:
    providers = {provider for provider, _, _ in TIERED}
    assert {"openai", "azure", "google", "anthropic", "xai", "fireworks"} <= providers


@pytest.mark.parametrize("spelling", ["batch", "BATCH", " Batch "])
def test_batch_tier_is_batch(spelling: str) -> None:
    for model in ("claude-sonnet-4-6", "gpt-4o", "gemini-2.5-pro"):
        assert calculate_cost(model, 1000, 100, service_tier=spelling) == calculate_cost(
            model, 1000, 100, batch=True
        )
        assert calculate_cost(model, 1000, 100, batch=True) < calculate_cost(model, 1000, 100)


def test_batch_wins_over_another_tier() -> None:
    assert calculate_cost("gpt-4o", 1000, 100, service_tier="priority", batch=True) == (
        calculate_cost("gpt-4o", 1000, 100, batch=True)
    )


@pytest.mark.parametrize(
    ("spelling", "tier"),
    [
        ("SERVICE_TIER_FLEX", "flex"),
        ("ON_DEMAND_FLEX", "flex"),
        ("Priority", "priority"),
        ("ON_DEMAND_PRIORITY", "priority"),
        ("SERVICE_TIER_STANDARD", None),
        ("unspecified", None),
        ("standard_only", None),
        ("ON_DEMAND", None),
    ],
)
def test_provider_spellings_fold_together(spelling: str, tier: str | None) -> None:
    model = "gemini-3.1-flash-lite-preview"
    assert calculate_cost(model, 1000, 100, provider="google", service_tier=spelling) == (
        calculate_cost(model, 1000, 100, provider="google", service_tier=tier)
    )


BOOK = PriceBook()
#: OpenAI-shaped hosts (their answers carry ``service_tier``), by provider.
HOSTS = {
    "openai": "api.openai.com",
    "xai": "api.x.ai",
    "groq": "api.groq.com",
    "together": "api.together.xyz",
    "fireworks": "api.fireworks.ai",
    "mistral": "api.mistral.ai",
}
Mix = tuple[int, int, int]  # prompt tokens (cache reads included), cache reads, output tokens


def _openai_call(provider: str, model: str, tier: str, mix: Mix) -> tuple[str, dict[str, Any]]:
    prompt, cached, out = mix
    if provider == "azure":
        url = f"https://acme.openai.azure.com/openai/deployments/{model}/chat/completions"
    else:
        url = f"https://{HOSTS[provider]}/v1/chat/completions"
    return url, {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "service_tier": tier,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": out,
            "total_tokens": prompt + out,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


def _anthropic_call(model: str, tier: str, mix: Mix) -> tuple[str, dict[str, Any]]:
    prompt, cached, out = mix
    usage: dict[str, Any] = {
        "input_tokens": prompt - cached,
        "cache_read_input_tokens": cached,
        "output_tokens": out,
        "service_tier": "batch" if tier == "batch" else "standard",
    }
    if tier == "fast":
        usage["speed"] = "fast"
    return "https://api.anthropic.com/v1/messages", {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "usage": usage,
    }


def _gemini_call(model: str, tier: str, mix: Mix) -> tuple[str, dict[str, Any]] | None:
    if tier == "batch":
        return None  # Batch API results are files, not generateContent answers
    prompt, cached, out = mix
    url = f"https://generativelanguage.googleapis.com/v1beta/models/{model}:generateContent"
    return url, {
        "candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
        "usageMetadata": {
            "promptTokenCount": prompt,
            "cachedContentTokenCount": cached,
            "candidatesTokenCount": out,
            "serviceTier": tier,
        },
        "modelVersion": model,
    }


def _call(provider: str, model: str, tier: str, mix: Mix) -> tuple[str, dict[str, Any]] | None:
    """The URL and the answer of one call at ``provider`` that reports ``tier``."""
    if provider == "anthropic":
        return _anthropic_call(model, tier, mix)
    if provider == "google":
        return _gemini_call(model, tier, mix)
    return _openai_call(provider, model, tier, mix)


def _tracked_cost(provider: str, model: str, tier: str, mix: Mix) -> Decimal | str | None:
    """The cost of one tracked call whose answer reports ``tier`` (``"skip"``: none to make)."""
    call = _call(provider, model, tier, mix)
    if call is None:
        return "skip"
    url, answer = call
    body = json.dumps(answer).encode()
    tracker = TokenTracker(prices=BOOK)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    request = {"model": model, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    with tracker.httpx_client(family="httpx", transport=httpx.MockTransport(handler)) as client:
        client.post(url, json=request)
    (record,) = tracker.records
    assert (record.provider, record.model) == (provider, model)
    return record.cost_usd


def _expected(provider: str, model: str, tier: str, mix: Mix) -> Decimal:
    prompt, cached, out = mix
    batch = tier == "batch"
    return calculate_cost(
        model,
        prompt,
        out,
        cached_input_tokens=cached,
        provider=provider,
        service_tier=None if batch else tier,
        batch=batch,
        at=None,
    )


@pytest.mark.parametrize(("provider", "model", "tier"), TRACKABLE)
def test_every_tiered_model_tracked_costs_what_calculate_cost_says(
    provider: str, model: str, tier: str
) -> None:
    mix = (12_000, 3_000, 900)
    tracked = _tracked_cost(provider, model, tier, mix)
    assert tracked != "skip"
    assert tracked == _expected(provider, model, tier, mix)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    row=st.sampled_from(TRACKABLE),
    prompt=st.integers(0, 400_000),
    cached_share=st.floats(0, 1),
    out=st.integers(0, 100_000),
)
def test_any_usage_tracked_at_a_tier_costs_what_calculate_cost_says(
    row: tuple[str, str, str], prompt: int, cached_share: float, out: int
) -> None:
    provider, model, tier = row
    mix = (prompt, int(prompt * cached_share), out)
    tracked = _tracked_cost(provider, model, tier, mix)
    assert tracked == _expected(provider, model, tier, mix)


def test_every_tier_sheet_differs_from_standard() -> None:
    """A tier sheet that prices like standard is a data slip (or needs no sheet)."""
    same = []
    for provider, model, tier in TIERED:
        batch = tier == "batch"
        args: dict[str, Any] = {"provider": provider, "cached_input_tokens": 0}
        standard = calculate_cost(model, 10_000, 1_000, **args)
        tiered = calculate_cost(
            model, 10_000, 1_000, service_tier=None if batch else tier, batch=batch, **args
        )
        if standard and tiered == standard:
            same.append((provider, model, tier))
    assert same == []


def test_list_models_still_loads() -> None:
    assert list_models("google")
