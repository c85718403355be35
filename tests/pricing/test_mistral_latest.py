"""``mistral-large-latest``: Mistral Large 2 until 2025-12-02, Mistral Large 3 since.

Mistral's docs list ``mistral-large-latest`` as an API name of Mistral Large 3
(``mistral-large-2512``, $0.5 input / $1.5 output per 1M tokens) from its
release commit of 2025-12-02; before, it named Mistral Large 2 ($2 / $6).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources

import openai
from pricing_helpers import M

from tokenbudget import TokenTracker
from tokenbudget.pricing import (
    PriceBook,
    PriceFile,
    calculate_cost,
    get_price,
    parse_price_json,
)
from tokenbudget.testing import FakeLLM, FakeReply

UTC = timezone.utc
#: Mistral Large 3 took over ``mistral-large-latest`` on its release day.
SWITCH = datetime(2025, 12, 2, tzinfo=UTC)


def test_mistral_large_latest_is_large_3_now() -> None:
    now = calculate_cost("mistral-large-latest", 1_000_000, 1_000_000, provider="mistral")
    assert now == Decimal("2.0")  # 0.5 + 1.5
    assert get_price("mistral-large-latest", "mistral").model == "mistral-large-2512"


def test_mistral_large_latest_was_large_2_before_the_switch() -> None:
    before = SWITCH - timedelta(seconds=1)
    cost = calculate_cost(
        "mistral-large-latest", 1_000_000, 1_000_000, provider="mistral", at=before
    )
    assert cost == Decimal(8)  # 2 + 6
    at_switch = calculate_cost(
        "mistral-large-latest", 1_000_000, 1_000_000, provider="mistral", at=SWITCH
    )
    assert at_switch == Decimal(2)
    # The pinned names keep their own prices whatever the date.
    assert calculate_cost("mistral-large-2411", 1_000_000, 1_000_000, provider="mistral") == 8


def test_a_real_openai_sdk_call_to_mistral_records_the_large_3_price() -> None:
    tracker = TokenTracker()
    fake = FakeLLM(reply=FakeReply("Bonjour.", input_tokens=1200, output_tokens=300))
    client = openai.OpenAI(
        api_key="sk-test",
        base_url="https://api.mistral.ai/v1",
        http_client=tracker.httpx_client(transport=fake),
        max_retries=0,
    )
    client.chat.completions.create(
        model="mistral-large-latest", messages=[{"role": "user", "content": "Salut"}]
    )
    (record,) = tracker.records
    assert record.provider == "mistral"
    assert record.usage.input_tokens == 1200 and record.usage.output_tokens == 300
    assert record.cost_usd == (1200 * Decimal("0.5") + 300 * Decimal("1.5")) / M


def test_builtin_dated_aliases_all_resolve() -> None:
    # Every built-in dated alias points, in every period, at a model of its provider.
    prices = PriceBook()
    seen = 0
    for item in (resources.files("tokenbudget.pricing") / "data").iterdir():
        if not item.name.endswith(".json"):
            continue
        data = PriceFile.model_validate(parse_price_json(item.read_bytes(), item.name))
        for alias in data.dated_aliases:
            for target in alias.targets:
                found = prices.resolve(target.model, data.provider)
                assert found is not None and found.model == target.model, target
                seen += 1
    assert seen >= 2
    for moment in (SWITCH - timedelta(days=1), SWITCH, None):
        assert prices.resolve("mistral-large-latest", "mistral", at=moment) is not None
