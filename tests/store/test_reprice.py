"""Repricing stored calls after a price correction, from the tracker and the CLI, in each store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tokenbudget import TokenTracker, register_model
from tokenbudget.cli import main
from tokenbudget.pricing import reset_default_book, unregister_models
from tokenbudget.store import open_store

from ..support import Price, StubBook, record

M = Decimal(1_000_000)


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    unregister_models()
    reset_default_book()
    yield
    unregister_models()
    reset_default_book()


def _filled(path: str, book: StubBook) -> TokenTracker:
    tracker = TokenTracker(store=path, prices=book)
    tracker.track("gpt-4o", 1_000_000, 0, provider="openai")  # $2.50
    tracker.track("gpt-4o", 2_000_000, 0, provider="openai")  # $5.00
    tracker.track("gpt-4o-mini", 1_000_000, 0, provider="openai")  # $0.15
    tracker.track("my-model", 1_000_000, 0, provider="openai")  # unpriced
    raw = {"prompt_tokens": 1_000_000, "completion_tokens": 0}
    tracker.add_record(record("gpt-4o", 1_000_000, 0, "0", cached=True, saved="2.5", raw_usage=raw))
    tracker.add_record(record("gpt-4o", 0, 0, "0", status=500, error="HTTP 500"))
    return tracker


def test_reprice_after_a_price_change_reports_and_updates(store_spec: str) -> None:
    book = StubBook()
    tracker = _filled(store_spec, book)
    assert tracker.usage.cost_usd == Decimal("7.65")

    book.prices["gpt-4o"] = Price("3", "12", "1.5")  # input was 2.50
    book.prices["my-model"] = Price("1", "1", "1")
    book.version = "stub-2"
    result = tracker.reprice()

    assert result.checked == 5  # the failed call is not repriced
    assert result.changed == 4  # two gpt-4o calls, the cache hit's saving, my-model
    assert result.newly_priced == 1
    assert (result.old_total, result.new_total) == (Decimal("7.65"), Decimal("10.15"))
    assert result.delta == Decimal("2.5")
    changes = {c.model: (c.changed, c.old_cost, c.new_cost) for c in result.by_model}
    assert changes == {
        "gpt-4o": (3, Decimal("7.5"), Decimal(9)),
        "my-model": (1, Decimal(0), Decimal(1)),
    }
    text = str(result)
    assert "checked 5 calls, changed 4 (prices stub-2)" in text
    assert "total: $7.65 -> $10.15 (+$2.5)" in text
    assert "openai/gpt-4o: 3 calls, $7.5 -> $9 (+$1.5)" in text

    # tracker.usage is reloaded from the repriced store
    assert tracker.usage.cost_usd == Decimal("10.15")
    assert tracker.usage.unpriced_calls == 0
    assert tracker.usage_by_model["gpt-4o"].saved_cost_usd == Decimal(3)
    tracker.close()

    with open_store(store_spec, create=False) as store:
        rows = list(store.records())
    hit = next(r for r in rows if r.cached)
    assert (hit.cost_usd, hit.saved_cost_usd, hit.price_version) == (0, Decimal(3), "stub-2")
    assert hit.raw_usage == {"prompt_tokens": 1_000_000, "completion_tokens": 0}  # kept for audit
    failed = next(r for r in rows if r.status_code == 500)
    assert (failed.cost_usd, failed.price_version) == (0, "stub-1")


def test_a_second_reprice_skips_calls_already_priced(store_spec: str) -> None:
    book = StubBook()
    tracker = _filled(store_spec, book)
    result = tracker.reprice()
    assert (result.checked, result.changed, result.skipped) == (0, 0, 6)  # same price data
    forced = tracker.reprice(force=True)
    assert (forced.checked, forced.changed, forced.skipped) == (5, 0, 0)
    tracker.close()


def test_dry_run_changes_nothing(store_spec: str) -> None:
    book = StubBook()
    tracker = _filled(store_spec, book)
    book.prices["gpt-4o"] = Price("5", "5", "5")
    book.version = "stub-2"
    result = tracker.reprice(dry_run=True)
    assert result.changed == 3 and result.dry_run
    assert "would change 3" in str(result)
    assert tracker.usage.cost_usd == Decimal("7.65")
    assert tracker.reprice(dry_run=True).changed == 3  # still to do
    tracker.close()


def test_reprice_needs_a_store() -> None:
    with pytest.raises(RuntimeError, match="no store"):
        TokenTracker().reprice()


def test_register_model_then_reprice_prices_past_unpriced_calls(store_spec: str) -> None:
    with TokenTracker(store=store_spec) as tracker:
        tracker.track("acme-finetune", 2_000_000, 1_000_000, provider="openai")
        assert tracker.usage.unpriced_calls == 1
        register_model("acme-finetune", input_per_1m="1", output_per_1m="4", provider="openai")
        result = tracker.reprice()
        assert result.newly_priced == 1
        assert tracker.usage.cost_usd == Decimal(6)
        assert tracker.usage.unpriced_calls == 0


def test_cli_reprice_with_a_price_file(
    store_spec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with TokenTracker(store=store_spec) as tracker:
        tracker.track("gpt-4o", 1_000_000, 0)  # built-in price: $2.50 per 1M input tokens
    override = {
        "format": "tokenbudget-prices/1",
        "providers": [
            {
                "provider": "openai",
                "name": "OpenAI",
                "pricing_url": "x",
                "models": [
                    {
                        "id": "gpt-4o",
                        "source": "test",
                        "checked": "2026-11-29",
                        "prices": [{"input": "3", "output": "10"}],
                    }
                ],
            }
        ],
    }
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(override))

    assert main(["reprice", store_spec, "--prices", str(prices), "--dry-run"]) == 0
    assert "would change 1" in capsys.readouterr().out
    assert main(["reprice", store_spec, "--prices", str(prices)]) == 0
    out = capsys.readouterr().out
    assert "checked 1 calls, changed 1" in out
    assert "total: $2.5 -> $3 (+$0.5)" in out
    with open_store(store_spec, create=False) as store:
        assert store.summary().cost_usd == Decimal(3)
