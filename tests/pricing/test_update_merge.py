"""Price updates and override files merge field by field; they never replace an entry.

The named cases come from issue 17 and LiteLLM 1.110.2's own entries
(``fixtures/pricing/litellm-1.110.2-sample.json``): before the merge, an
update made ``codestral-latest`` free, collapsed DeepSeek's history to one
price, put Gemini 4 Argon back on its introductory price and dropped
gpt-4o's priority tier.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pricing_helpers import ACME, write_override

from tokenbudget import Usage
from tokenbudget.pricing import (
    RATE_FIELDS,
    ModelEntry,
    OverrideFile,
    PriceBook,
    PriceFile,
    import_litellm,
    merge_entry,
    parse_price_json,
    plan_update,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "pricing" / "litellm-1.110.2-sample.json"
TODAY = date(2026, 12, 5)
NOW = datetime(2026, 12, 5, 12, tzinfo=timezone.utc)
MILLION_IN = Usage(input_tokens=10**6)


def sample() -> Any:
    return parse_price_json(SAMPLE.read_bytes(), str(SAMPLE))


def updated_book(tmp_path: Path) -> PriceBook:
    """The built-in data plus the override file ``prices update`` writes for the sample."""
    files, _ = import_litellm(sample(), origin=str(SAMPLE), today=TODAY)
    plan = plan_update(files, now=NOW)
    document = OverrideFile(format="tokenbudget-prices/1", providers=plan.files)
    path = tmp_path / "prices.json"
    path.write_text(document.model_dump_json(by_alias=True, exclude_defaults=True))
    return PriceBook.load(path)


def acme(model: str) -> ModelEntry:
    return next(ModelEntry.model_validate(m) for m in ACME["models"] if m["id"] == model)


# -- route choice --------------------------------------------------------------------------


def test_the_provider_s_own_litellm_route_wins() -> None:
    files, stats = import_litellm(sample(), origin="sample", today=TODAY)
    entries = {(f.provider, m.id): m for f in files for m in f.models}
    codestral = entries["mistral", "codestral-latest"]
    # codestral/ and text-completion-codestral/ price it at $0; mistral/ is Mistral's own route.
    assert (codestral.prices[0].input, codestral.prices[0].output) == (
        Decimal("0.3"),
        Decimal("0.9"),
    )
    assert "mistral/codestral-latest" in codestral.source
    assert "sample: azure/gpt-5.4" in entries["azure", "gpt-5.4"].source  # not azure_ai/
    assert stats.skipped_duplicate >= 3


# -- the named cases -----------------------------------------------------------------------


def test_an_update_keeps_codestral_latest_priced(tmp_path: Path) -> None:
    book = updated_book(tmp_path)
    assert book.cost("mistral", "codestral-latest", MILLION_IN, at=NOW) == Decimal("0.3")


def test_an_update_keeps_deepseek_s_history_and_off_peak_window(tmp_path: Path) -> None:
    builtin, book = PriceBook.load(), updated_book(tmp_path)
    for at in (
        datetime(2025, 3, 1, 20, tzinfo=timezone.utc),  # V3 off-peak window
        datetime(2025, 3, 1, 10, tzinfo=timezone.utc),  # V3 peak
        datetime(2025, 10, 1, tzinfo=timezone.utc),  # V3.2
        NOW,  # V4 Flash: LiteLLM's V3.2 price is stale and ignored
    ):
        expected = builtin.cost("deepseek", "deepseek-chat", MILLION_IN, at=at)
        assert book.cost("deepseek", "deepseek-chat", MILLION_IN, at=at) == expected, at
    assert book.cost("deepseek", "deepseek-chat", MILLION_IN, at=NOW) == Decimal("0.14")
    assert book.cost(
        "deepseek", "deepseek-chat", MILLION_IN, at=datetime(2025, 3, 1, 20, tzinfo=timezone.utc)
    ) == Decimal("0.135")


def test_an_update_does_not_revive_gemini_4_argon_s_introductory_price(tmp_path: Path) -> None:
    book = updated_book(tmp_path)
    assert book.cost("google", "gemini-4-argon", MILLION_IN, at=NOW) == Decimal(4)
    before = datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert book.cost("google", "gemini-4-argon", MILLION_IN, at=before) == Decimal(2)


def test_an_update_keeps_gpt_4o_s_priority_tier_and_aliases(tmp_path: Path) -> None:
    book = updated_book(tmp_path)
    assert book.cost("openai", "gpt-4o", MILLION_IN, service_tier="priority", at=NOW) == Decimal(
        "4.25"
    )
    found = book.resolve("gpt-4o-2024-11-20", "openai")
    assert found is not None and found.model == "gpt-4o"


def test_an_update_keeps_dated_aliases_and_snapshot_tiers(tmp_path: Path) -> None:
    book = updated_book(tmp_path)
    large = book.resolve("mistral-large-latest", "mistral", at=NOW)
    assert large is not None and large.model == "mistral-large-2512"
    long_prompt = Usage(input_tokens=300_000)
    builtin = PriceBook.load().cost("anthropic", "claude-sonnet-4-5-20250929", long_prompt)
    assert book.cost("anthropic", "claude-sonnet-4-5-20250929", long_prompt) == builtin


def test_the_plan_says_what_it_keeps_changes_and_adds() -> None:
    files, _ = import_litellm(sample(), origin="sample", today=TODAY)
    plan = plan_update(files, now=NOW)
    status = {(c.provider, c.model): c for c in plan.changes}
    assert status["deepseek", "deepseek-chat"].status == "kept"
    assert "ended on 2026-04-26" in status["deepseek", "deepseek-chat"].reason
    assert "ended on 2026-11-30" in status["google", "gemini-4-argon"].reason
    assert status["mistral", "mistral-large-latest"].reason == "a dated alias of the data"
    assert status["openai", "gpt-4o"].status == "unchanged"
    assert status["cerebras", "llama-3.1-70b"].status == "added"
    changed = status["fireworks", "llama-v3p1-8b-instruct"]
    assert changed.status == "changed"
    assert ("input", Decimal("0.2"), Decimal("0.1")) in changed.prices
    assert plan.counts()["deepseek"]["kept"] == 2


def test_a_changed_price_applies_from_the_import_date_on(tmp_path: Path) -> None:
    book = updated_book(tmp_path)
    model = "accounts/fireworks/models/llama-v3p1-8b-instruct"
    assert book.cost("fireworks", model, MILLION_IN, at=NOW) == Decimal("0.1")
    earlier = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert book.cost("fireworks", model, MILLION_IN, at=earlier) == Decimal("0.2")


def test_a_litellm_file_used_as_the_override_merges_the_same_way() -> None:
    book = PriceBook.load(SAMPLE)
    assert book.cost("mistral", "codestral-latest", MILLION_IN) == Decimal("0.3")
    assert book.cost("google", "gemini-4-argon", MILLION_IN, at=NOW) == Decimal(4)
    assert book.cost("openai", "gpt-4o", MILLION_IN, service_tier="priority") == Decimal("4.25")


# -- the merge rule, for override files --------------------------------------------------


def entry(model: str, *periods: dict[str, Any]) -> dict[str, Any]:
    return {"id": model, "source": "mine", "checked": "2026-12-01", "prices": list(periods)}


def test_an_override_changes_what_it_names_and_keeps_the_rest() -> None:
    merged = merge_entry(
        acme("acme-pro"),
        ModelEntry.model_validate(entry("acme-pro", {"input": "4", "output": "20"})),
    )
    book = PriceBook(
        [
            PriceFile.model_validate(
                {**ACME, "models": [merged.model_dump(by_alias=True, exclude_unset=True)]}
            )
        ],
        builtin=False,
    )
    usage = Usage(input_tokens=10**6, cached_input_tokens=10**6)
    assert book.cost("acme", "acme-pro", MILLION_IN) == Decimal(4)
    assert book.cost("acme", "acme-pro", usage) == Decimal("0.3")  # cached price kept
    assert book.cost("acme", "acme-pro", MILLION_IN, batch=True) == Decimal("1.5")
    assert book.cost("acme", "acme-pro", MILLION_IN, service_tier="priority") == Decimal(6)
    assert merged.aliases == ["acme-pro-2025-01-01"] and merged.source == "mine"
    assert merged.prices[0].extra == {"web_search_requests": Decimal("0.01")}


def test_an_override_keeps_windows_and_earlier_periods() -> None:
    peak = merge_entry(
        acme("acme-peak"),
        ModelEntry.model_validate(entry("acme-peak", {"input": "1", "output": "2"})),
    )
    assert [w.utc for w in peak.prices[0].windows] == ["01:00-04:00"]
    dated = merge_entry(
        acme("acme-dated"),
        ModelEntry.model_validate(
            entry("acme-dated", {"from": "2026-01-01", "input": "1", "output": "2"})
        ),
    )
    assert [(p.from_, p.input) for p in dated.prices] == [
        (None, Decimal(10)),
        (datetime(2025, 6, 10, tzinfo=timezone.utc), Decimal(2)),
        (datetime(2026, 1, 1, tzinfo=timezone.utc), Decimal(1)),
    ]


def test_an_override_file_merges_over_the_built_in_entry(tmp_path: Path) -> None:
    gpt4o = entry("gpt-4o", {"input": "3", "output": "12"})
    provider = {"provider": "openai", "name": "OpenAI", "pricing_url": "x", "models": [gpt4o]}
    book = PriceBook.load(write_override(tmp_path / "o.json", provider))
    assert book.cost("openai", "gpt-4o", MILLION_IN) == Decimal(3)
    assert book.cost("openai", "gpt-4o", MILLION_IN, service_tier="priority") == Decimal("4.25")
    assert book.cost("openai", "gpt-4o", MILLION_IN, batch=True) == Decimal("1.25")
    found = book.resolve("gpt-4o", "openai")
    assert found is not None and found.origin == "override" and "gpt-4o-2024-08-06" in found.aliases


_PRICE = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False)


@given(st.dictionaries(st.sampled_from(RATE_FIELDS), _PRICE, min_size=0, max_size=len(RATE_FIELDS)))
def test_a_merge_takes_every_named_price_and_keeps_every_other(prices: dict[str, Decimal]) -> None:
    base = acme("acme-pro")
    over = ModelEntry.model_validate(
        entry("acme-pro", {"input": "1", "output": "1", **{k: str(v) for k, v in prices.items()}})
    )
    merged = merge_entry(base, over).prices[0]
    named = {"input": Decimal(1), "output": Decimal(1), **prices}
    for name in RATE_FIELDS:
        expected = named.get(name, getattr(base.prices[0], name))
        assert getattr(merged, name) == expected, name
    assert merged.batch == base.prices[0].batch
    assert merged.service_tiers == base.prices[0].service_tiers
    assert merged.extra == base.prices[0].extra
    assert json.dumps(merged.model_dump(mode="json"))  # a valid, serialisable period


def test_scheduled_changes_and_unpriced_models_keep_the_built_in_data() -> None:
    def community(model: str) -> PriceFile:
        entry = {
            "id": model,
            "source": "community",
            "checked": "2026-12-05",
            "prices": [{"input": "9", "output": "9"}],
        }
        return PriceFile.model_validate(
            {"provider": "google", "name": "Google", "pricing_url": "x", "models": [entry]}
        )

    scheduled = PriceBook.load().resolve("gemini-3.6-flash", "google")
    assert scheduled is not None
    assert any(p.from_ is not None and p.from_ > NOW for p in scheduled.entry.prices)
    plan = plan_update([community("gemini-3.6-flash"), community("gemini-2.0-pro")], now=NOW)
    reasons = {change.model: change.reason for change in plan.changes}
    assert reasons == {
        "gemini-3.6-flash": "the data schedules a price change",
        "gemini-2.0-pro": "the data says it has no price",
    }
    assert plan.files == []
