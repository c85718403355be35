"""Precedence (register_model > override file > built-in), LiteLLM import, public API."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pricing_helpers import ACME, M, litellm_sample, make_book, write_override

import tokenbudget.pricing as pricing
from tokenbudget import Usage
from tokenbudget.pricing import (
    PriceBook,
    UnknownModelError,
    UnpricedModelError,
    calculate_cost,
    get_price,
    import_litellm,
    list_models,
    register_model,
    reset_default_book,
    unregister_models,
)


def _gpt4o_override(tmp_path: Path, input_price: str) -> Path:
    entry = {
        "id": "gpt-4o",
        "source": "test",
        "checked": "2026-11-29",
        "prices": [{"input": input_price, "output": "1"}],
    }
    provider = {"provider": "openai", "name": "OpenAI", "pricing_url": "x", "models": [entry]}
    return write_override(tmp_path / "override.json", provider)


def test_precedence_register_over_override_over_builtin(tmp_path: Path) -> None:
    usage = Usage(input_tokens=10**6)
    # Built-in fact (OpenAI pricing page): gpt-4o input is $2.50 per 1M tokens.
    assert PriceBook.load().cost("openai", "gpt-4o", usage) == Decimal("2.5")
    book = PriceBook.load(_gpt4o_override(tmp_path, "100"))
    assert book.cost("openai", "gpt-4o", usage) == Decimal(100)
    assert book.resolve("gpt-4o", "openai").origin == "override"  # type: ignore[union-attr]
    # Snapshot names the override does not list still resolve to the built-in entry.
    assert book.cost("openai", "gpt-4o-2024-05-13", usage) == Decimal(5)
    register_model("gpt-4o", input_per_1m="200", output_per_1m="1", provider="openai")
    assert book.cost("openai", "gpt-4o", usage) == Decimal(200)  # every book sees it
    book.register("gpt-4o", provider="openai", input_per_1m=300, output_per_1m=1)
    assert book.cost("openai", "gpt-4o", usage) == Decimal(300)  # a book's own wins


def test_env_override_feeds_the_default_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENBUDGET_PRICES", str(_gpt4o_override(tmp_path, "7")))
    reset_default_book()
    assert get_price("gpt-4o").input_per_1m == Decimal(7)
    assert "override-" in PriceBook.default().version


def test_user_config_file_feeds_the_default_book(tmp_path: Path) -> None:
    target = tmp_path / "config" / "tokenbudget" / "prices.json"
    target.parent.mkdir(parents=True)
    target.write_text(_gpt4o_override(tmp_path, "9").read_text())
    reset_default_book()
    assert get_price("gpt-4o").input_per_1m == Decimal(9)


def test_broken_env_override_is_logged_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[")
    monkeypatch.setenv("TOKENBUDGET_PRICES", str(bad))
    reset_default_book()
    assert get_price("gpt-4o").input_per_1m == Decimal("2.5")
    assert str(bad) in caplog.text


def test_register_model_seed_api() -> None:
    price = register_model("my-model", input_per_1k=0.001, output_per_1k=0.002)
    assert price.input_per_1k == 0.001 and price.output_per_1k == 0.002
    assert price.input_per_1m == Decimal(1)  # exactly, no float residue
    assert calculate_cost("my-model", input_tokens=1000, output_tokens=500) == Decimal("0.002")
    assert "my-model" in list_models()
    # A provider-less registration prices the model at any host, local ones included.
    book = PriceBook.load()
    assert book.cost("openai-compatible", "my-model", Usage(input_tokens=1000)) == Decimal("0.001")


def test_register_model_with_cache_and_tiers() -> None:
    register_model(
        "big-model",
        provider="acme-host",
        input_per_1m="2",
        output_per_1m="8",
        cached_input_per_1m="0.5",
        cache_write_per_1m="2.5",
        tiers=[
            {"above": 1000, "input": "4", "output": "16", "cached_input": "1", "cache_write": "5"}
        ],
    )
    assert (
        calculate_cost("big-model", 1000, 10, cached_input_tokens=500, provider="acme-host")
        == (500 * Decimal(2) + 500 * Decimal("0.5") + 10 * Decimal(8)) / M
    )
    assert calculate_cost("big-model", 1001, 0, provider="acme-host") == 1001 * Decimal(4) / M


def test_register_model_rejects_bad_prices() -> None:
    with pytest.raises(TypeError, match="unexpected price keyword"):
        register_model("x", input_per_1k=1, outptu_per_1k=2)
    with pytest.raises(ValueError, match="register_model"):
        register_model("x", input_per_1m=-1, output_per_1m=1)


def test_unregister_models_takes_back_every_registration() -> None:
    book = PriceBook.load()
    version = book.version
    register_model("my-model", input_per_1m="1", output_per_1m="1")
    register_model("gpt-4o", input_per_1m="200", output_per_1m="1", provider="openai")
    book.register("own-model", input_per_1m="3", output_per_1m="3")
    assert book.cost("openai", "gpt-4o", Usage(input_tokens=10**6)) == Decimal(200)
    unregister_models()
    with pytest.raises(UnknownModelError):
        get_price("my-model")
    assert book.resolve("my-model") is None
    assert book.cost("openai", "gpt-4o", Usage(input_tokens=10**6)) == Decimal("2.5")
    # What the book registered itself stays.
    assert book.cost(None, "own-model", Usage(input_tokens=10**6)) == Decimal(3)
    assert book.version != version
    assert PriceBook.load().version == version


def test_calculate_cost_contract() -> None:
    # Built-in fact: claude-sonnet-4-5 is $3 in / $15 out, cache read $0.30, 5m write $3.75,
    # 1h write $6 per 1M tokens (Anthropic pricing page).
    cost = calculate_cost(
        "claude-sonnet-4-5-20250929",
        input_tokens=10_000,
        output_tokens=2000,
        cached_input_tokens=4000,
        cache_write_tokens=3000,
        cache_write_1h_tokens=1000,
        reasoning_tokens=500,
        provider="anthropic",
    )
    expected = (
        3000 * Decimal(3)
        + 4000 * Decimal("0.3")
        + 2000 * Decimal("3.75")
        + 1000 * Decimal(6)
        + 2000 * Decimal(15)
    ) / M
    assert cost == expected


def test_unknown_model_error_names_close_matches() -> None:
    with pytest.raises(UnknownModelError) as info:
        calculate_cost("gpt-4oo", 10, 10)
    assert isinstance(info.value, LookupError)
    assert "'gpt-4oo'" in str(info.value) and "gpt-4o" in str(info.value)
    with pytest.raises(UnpricedModelError, match="no published price"):
        get_price("gemini-2.0-pro")


def test_list_models_keys_resolve_back() -> None:
    book = make_book()
    models = book.models()
    assert "acme-pro" in models and "hostco/acme-pro" in models
    for key, price in models.items():
        assert book.resolve(key) is price
    assert set(book.models("hostco")) == {"acme-pro"}


def test_public_names() -> None:
    assert set(pricing.__all__) >= {
        "get_price",
        "calculate_cost",
        "register_model",
        "list_models",
        "ModelPrice",
        "UnknownModelError",
        "PriceBook",
    }


# -- LiteLLM import -----------------------------------------------------------------


def test_litellm_file_as_override(tmp_path: Path) -> None:
    path = tmp_path / "litellm.json"
    path.write_text(json.dumps(litellm_sample()))
    book = PriceBook.load(path)
    usage = Usage(input_tokens=10_000, cached_input_tokens=2000, output_tokens=1000)
    assert (
        book.cost("openai", "acme-litellm", usage)
        == (8000 * Decimal("2.5") + 2000 * Decimal("1.25") + 1000 * Decimal(10)) / M
    )
    assert book.cost("openai", "acme-litellm", Usage(input_tokens=10**6), batch=True) == Decimal(
        "1.25"
    )
    assert book.cost(
        "openai", "acme-litellm", Usage(output_tokens=10**6), service_tier="flex"
    ) == Decimal(5)
    # gemini/ route prefix stripped, provider mapped, >200k tier kept.
    long = Usage(input_tokens=200_001, output_tokens=1000)
    assert (
        book.cost("google", "acme-gem", long) == (200_001 * Decimal("2.5") + 1000 * Decimal(15)) / M
    )
    assert book.cost("openai", "acme-embed", Usage(input_tokens=10**6)) == Decimal("0.02")
    assert book.resolve("acme-image", "openai") is None  # per-image only: not imported


def test_litellm_import_reports_what_it_skipped() -> None:
    files, stats = import_litellm(litellm_sample(), origin="sample")
    assert stats.imported == 3 and stats.skipped_unpriced == 1
    assert {f.provider for f in files} == {"openai", "google"}
    entry = next(m for f in files for m in f.models if m.id == "acme-litellm")
    assert entry.prices[0].input == Decimal("2.5")  # parsed exactly from 2.5e-06
    assert entry.context_window == 128000


def test_override_with_acme_provider(tmp_path: Path) -> None:
    book = PriceBook.load(write_override(tmp_path / "o.json", ACME))
    assert book.cost("acme", "acme-pro", Usage(input_tokens=10**6)) == Decimal(3)
    assert "acme" in book.providers()
