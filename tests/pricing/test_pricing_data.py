"""The built-in data and the loading of price files (validation, messages)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pricing_helpers import ACME, M, write_override

from tokenbudget import Usage
from tokenbudget.pricing import PriceBook, PriceDataError

BUILTIN = PriceBook.load()


def test_every_builtin_file_validates_and_names_its_sources() -> None:
    book = PriceBook.load()  # the built-in data alone (the fixture cleared registrations)
    providers = book.providers()
    for expected in (
        "openai",
        "anthropic",
        "google",
        "xai",
        "deepseek",
        "mistral",
        "groq",
        "together",
        "fireworks",
        "perplexity",
        "openrouter",
        "azure",
    ):
        assert expected in providers
    for provider in providers:
        models = book.models(provider)  # reads and validates the provider's file
        assert models, provider
        for price in models.values():
            assert price.provider == provider and price.origin == "built-in"
            assert price.source and price.checked
            assert price.entry.prices or price.unpriced


SEED_MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4-turbo",
    "gpt-4",
    "gpt-3.5-turbo",
    "o1",
    "o1-mini",
    "o3-mini",
    "claude-opus-4-5",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "claude-3-5-sonnet",
    "claude-3-opus",
    "gemini-2.0-flash",
    "gemini-1.5-pro",
    "gemini-1.5-flash",
]
LATER_MODELS = [
    "gpt-4.1",
    "gpt-5",
    "o3",
    "o4-mini",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "claude-opus-4-1",
    "claude-sonnet-4-0",
    "claude-3-7-sonnet",
    "claude-3-5-haiku",
    "claude-3-haiku",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    # on sale late 2026
    "gpt-5.5",
    "gpt-6-sol",
    "gpt-6-luna",
    "gpt-6-astra",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-opus-5",
    "claude-sonnet-5-5",
    "claude-haiku-5-5",
    "gemini-3.1-pro-preview",
    "gemini-3.5-flash",
    "grok-4.7",
    "grok-4.3",
    "deepseek-v4-pro",
    "deepseek-flash",
    "mistral-large-2512",
    "mistral-large-4",
]


@pytest.mark.parametrize("model", SEED_MODELS + LATER_MODELS)
def test_required_models_are_priced(model: str) -> None:
    found = BUILTIN.resolve(model)
    assert found is not None, model
    assert found.unpriced is None
    assert found.input_per_1m is not None and found.input_per_1m > 0


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("llama-3.3-70b-versatile", "groq"),
        ("openai/gpt-oss-120b", "groq"),
        ("deepseek-chat", "deepseek"),
        ("sonar-pro", "perplexity"),
        ("accounts/fireworks/models/deepseek-v4-pro", "fireworks"),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "together"),
        ("anthropic/claude-sonnet-4.5", "openrouter"),
    ],
)
def test_hosts_are_priced_per_host(model: str, provider: str) -> None:
    found = BUILTIN.resolve(model, provider)
    assert found is not None and found.provider == provider


# Facts from the providers' pricing pages (USD per 1M tokens), checked 2026-11-29.
FACTS = [
    ("gpt-4o", None, "input", "2.5"),
    ("gpt-4o", None, "output", "10"),
    ("gpt-4o-2024-05-13", None, "input", "5"),  # the first snapshot was dearer
    ("claude-sonnet-4-5-20250929", None, "input", "3"),
    ("claude-sonnet-4-5", None, "cache_write", "3.75"),  # 5m write = 1.25x input
    ("claude-sonnet-4-5", None, "cache_write_1h", "6"),  # 1h write = 2x input
    ("claude-opus-4-5", None, "output", "25"),
    ("models/gemini-2.5-pro", None, "input", "1.25"),
    ("grok-4.7", None, "input", "2"),
]


@pytest.mark.parametrize(("model", "provider", "field", "value"), FACTS)
def test_spot_checks_against_provider_pages(
    model: str, provider: str | None, field: str, value: str
) -> None:
    found = BUILTIN.resolve(model, provider)
    assert found is not None
    rates = found.rates()
    assert rates is not None and getattr(rates, field) == Decimal(value)


def test_gemini_25_pro_long_prompt_tier() -> None:
    # Gemini pricing page: $1.25/$10 up to 200k prompt tokens, $2.50/$15 above.
    usage = Usage(input_tokens=250_000, output_tokens=10_000)
    cost = BUILTIN.cost("google", "gemini-2.5-pro", usage)
    assert cost == (250_000 * Decimal("2.5") + 10_000 * Decimal(15)) / M


def test_gemini_20_pro_has_no_invented_price() -> None:
    found = BUILTIN.resolve("gemini-2.0-pro-exp-02-05", "google")
    assert found is not None and found.unpriced
    assert BUILTIN.cost("google", "gemini-2.0-pro", Usage(input_tokens=10)) is None


def test_sonnet_55_cache_read_price_change() -> None:
    # Anthropic cut Sonnet 5.5 cache reads from $0.20 to $0.10 per 1M on 2026-10-07.
    usage = Usage(input_tokens=10**6, cached_input_tokens=10**6)
    november = datetime(2026, 11, 29, tzinfo=timezone.utc)
    september = datetime(2026, 9, 30, tzinfo=timezone.utc)
    assert BUILTIN.cost("anthropic", "claude-sonnet-5-5", usage, at=november) == Decimal("0.1")
    assert BUILTIN.cost("anthropic", "claude-sonnet-5-5", usage, at=september) == Decimal("0.2")


def test_fallbacks_and_hosts_without_prices() -> None:
    azure = BUILTIN.resolve("gpt-4o-2024-11-20", "azure")
    assert azure is not None and azure.input_per_1m == Decimal("2.5")
    vertex = BUILTIN.resolve("claude-3-5-sonnet@20240620", "vertex")
    assert vertex is not None and vertex.provider == "anthropic"
    assert BUILTIN.resolve("gpt-4o", "openai-compatible") is None
    assert BUILTIN.resolve("gpt-4o", "ollama") is None


def test_version_identifies_the_data() -> None:
    assert BUILTIN.version.startswith("builtin-")
    assert PriceBook.load().version == BUILTIN.version


# -- bad data files -----------------------------------------------------------------


def _broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(ACME)
    change(data)
    return data


BAD_FILES = [
    (
        "negative price",
        lambda d: d["models"][0]["prices"][0].update(input="-1"),
        ["'acme-pro'", "prices.0.input"],
    ),
    (
        "unknown field",
        lambda d: d["models"][1]["prices"][0].update(inptu="1"),
        ["'acme-long'", "prices.0.inptu", "Extra inputs"],
    ),
    (
        "missing output",
        lambda d: d["models"][2]["prices"][1].pop("output"),
        ["'acme-dated'", "prices.1", "output"],
    ),
    (
        "not a number",
        lambda d: d["models"][3]["prices"][0].update(output="cheap"),
        ["'acme-mini'", "prices.0.output"],
    ),
    ("missing source", lambda d: d["models"][3].pop("source"), ["'acme-mini'", "field source"]),
    (
        "duplicate name",
        lambda d: d["models"][3].update(aliases=["acme-pro"]),
        ["acme-pro", "already used"],
    ),
    (
        "tier sets a price the sheet lacks",
        lambda d: d["models"][1]["prices"][0]["tiers"][0].update(cache_write="9"),
        ["'acme-long'", "tier above 200000"],
    ),
    (
        "dates out of order",
        lambda d: d["models"][2]["prices"].append(
            {"from": "2024-01-01", "input": "1", "output": "1"}
        ),
        ["'acme-dated'", "increasing"],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_bad_file_names_file_model_and_field(
    tmp_path: Path, change: Any, expected: list[str]
) -> None:
    path = write_override(tmp_path / "prices.json", _broken(change))
    with pytest.raises(PriceDataError) as info:
        PriceBook.load(path)
    message = str(info.value)
    assert str(path) in message
    assert "provider 'acme'" in message
    for part in expected:
        assert part in message


def test_unreadable_and_invalid_json(tmp_path: Path) -> None:
    with pytest.raises(PriceDataError, match="cannot read"):
        PriceBook.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PriceDataError, match="not valid JSON"):
        PriceBook.load(bad)


def test_single_provider_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(ACME))
    book = PriceBook.load(path)
    assert book.cost("acme", "acme-pro", Usage(input_tokens=10**6)) == Decimal(3)
