"""One tracker over several providers: totals per provider and per model, and the example."""

from __future__ import annotations

import runpy
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tokenbudget import TokenTracker
from tokenbudget.providers.custom import CustomProvider

from ..support import Price, StubBook, fixture_bytes, sync_client
from .helpers import JSON, PRICES, SSE, Recorder

M = Decimal(1_000_000)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "multi_provider.py"
HELLO = [{"role": "user", "content": "Hello!"}]


@pytest.fixture
def book() -> StubBook:
    return StubBook({**PRICES, ("acme", "acme-1"): Price("1", "2")})


def test_usage_by_provider_and_by_model(tracker: TokenTracker) -> None:
    claude = anthropic.Anthropic(
        api_key="k",
        max_retries=0,
        http_client=sync_client(
            tracker,
            "httpx2",
            Recorder("httpx2", {"/v1/messages": (fixture_bytes("anthropic/messages.json"), JSON)}),
        ),
    )
    gemini = genai.Client(
        api_key="k",
        http_options=types.HttpOptions(
            httpx_client=sync_client(
                tracker,
                "httpx",
                Recorder(
                    "httpx",
                    {
                        "alt=sse": (fixture_bytes("google/stream_generate_content.sse"), SSE),
                        ":generateContent": (fixture_bytes("google/generate_content.json"), JSON),
                    },
                ),
            )
        ),
    )
    groq = openai.OpenAI(
        api_key="k",
        base_url="https://api.groq.com/openai/v1",
        max_retries=0,
        http_client=sync_client(
            tracker,
            "httpx",
            Recorder("httpx", {"/chat/completions": (fixture_bytes("groq/chat.json"), JSON)}),
        ),
    )
    CustomProvider(
        tracker,
        "acme",
        lambda body: body["model"],
        lambda body: body["usage"]["in"],
        lambda body: body["usage"]["out"],
    ).track({"model": "acme-1", "usage": {"in": 1000, "out": 500}})

    claude.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=HELLO)
    claude.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=HELLO)
    gemini.models.generate_content(model="gemini-2.5-pro", contents="Describe this chart.")
    for _ in gemini.models.generate_content_stream(model="gemini-2.5-flash", contents="Hi"):
        pass
    groq.chat.completions.create(model="openai/gpt-oss-120b", messages=HELLO)

    by_provider = tracker.usage_by_provider
    assert sorted(by_provider) == ["acme", "anthropic", "google", "groq"]
    assert by_provider["anthropic"].calls == 2
    assert by_provider["anthropic"].input_tokens == 2 * 4221
    assert by_provider["anthropic"].cached_input_tokens == 2 * 2400
    assert by_provider["anthropic"].cache_write_tokens == 2 * 1800
    assert by_provider["anthropic"].cost_usd == 2 * Decimal("0.011088")
    assert by_provider["google"].calls == 2
    assert by_provider["google"].input_tokens == 5300 + 54
    assert by_provider["google"].output_tokens == 602 + 93
    assert by_provider["google"].reasoning_tokens == 390 + 62
    assert by_provider["groq"].output_tokens == 150
    assert by_provider["acme"].cost_usd == (1000 * 1 + 500 * 2) / M

    by_model = tracker.usage_by_model
    assert by_model["gemini-2.5-pro"].cost_usd == Decimal("0.008037")
    assert (
        by_model["gemini-2.5-flash"].cost_usd == (54 * Decimal("0.30") + 93 * Decimal("2.50")) / M
    )
    assert by_model["openai/gpt-oss-120b"].calls == 1
    assert tracker.total_cost == sum((s.cost_usd for s in by_provider.values()), Decimal(0))
    assert tracker.usage.calls == 6


def test_the_example_runs_offline(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, Any] = runpy.run_path(str(EXAMPLE), run_name="example")
    tracker = namespace["main"]()
    namespace["report"](tracker)
    printed = capsys.readouterr().out
    for provider in ("anthropic", "deepseek", "google", "groq", "local", "openai", "openrouter"):
        assert provider in tracker.usage_by_provider
        assert f"\n{provider} " in printed
    assert tracker.usage.calls == 13
    assert tracker.usage_by_provider["openrouter"].cost_usd == Decimal("0.00525") + Decimal(
        "0.00085375"
    )  # the costs OpenRouter reported
    assert tracker.usage.estimated_calls == 0
