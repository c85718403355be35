"""``units={...}`` and the audio and image counts of ``calculate_cost()`` and ``tracker.track()``.

Both take the same counts under the same names and must price them alike: a
tracked call costs exactly what ``calculate_cost`` says for the same figures.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenbudget import TokenTracker, calculate_cost
from tokenbudget.pricing import PriceBook

M = Decimal(1_000_000)

counts = st.integers(min_value=0, max_value=2_000_000)


def test_units_bill_web_searches() -> None:
    plain = calculate_cost("claude-sonnet-4-5", 1_000, 100)
    searched = calculate_cost("claude-sonnet-4-5", 1_000, 100, units={"web_search_requests": 3})
    assert searched - plain == Decimal("0.03")


def test_units_the_model_does_not_price_cost_nothing() -> None:
    plain = calculate_cost("gpt-4o", 1_000, 100)
    assert calculate_cost("gpt-4o", 1_000, 100, units={"teleports": 7}) == plain


def test_extra_is_a_deprecated_name_for_units() -> None:
    with pytest.deprecated_call():
        old = calculate_cost("gpt-4o", 10, 10, extra={"web_search_requests": 1})
    assert old == calculate_cost("gpt-4o", 10, 10, units={"web_search_requests": 1})


def test_units_and_extra_together_are_refused() -> None:
    with pytest.raises(TypeError, match="units="), pytest.warns(DeprecationWarning):
        calculate_cost("gpt-4o", 1, 1, units={"a": 1}, extra={"a": 1})


@pytest.mark.parametrize(
    ("units", "error"),
    [
        ([("web_search_requests", 1)], TypeError),
        ({"web_search_requests": -1}, ValueError),
        ({"web_search_requests": 1.5}, TypeError),
        ({"web_search_requests": True}, TypeError),
        ({3: 1}, TypeError),
        ({"web_search_requests": 10**12}, ValueError),
    ],
)
def test_bad_units_raise_and_record_nothing(units: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        calculate_cost("gpt-4o", 1, 1, units=units)
    tracker = TokenTracker()
    with pytest.raises(error):
        tracker.track("gpt-4o", 1, 1, units=units)
    assert tracker.records == []


@pytest.mark.parametrize(
    "name",
    ["audio_input_tokens", "audio_output_tokens", "image_input_tokens", "image_output_tokens"],
)
@pytest.mark.parametrize(
    ("value", "error"), [(-1, ValueError), (True, TypeError), ("3", TypeError)]
)
def test_bad_modal_counts_raise(name: str, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=name):
        calculate_cost("gpt-4o", 10, 10, **{name: value})
    with pytest.raises(error, match=name):
        TokenTracker().track("gpt-4o", 10, 10, **{name: value})


def test_audio_counts_are_priced_at_audio_prices() -> None:
    # gpt-audio: text $2.5 / $10, audio $32 / $64 per 1M
    cost = calculate_cost(
        "gpt-audio", 1_000, 1_000, audio_input_tokens=600, audio_output_tokens=800
    )
    assert cost == (400 * Decimal("2.5") + 600 * 32 + 200 * 10 + 800 * 64) / M


def test_reasoning_price_applies_only_where_the_model_has_one() -> None:
    # sonar-deep-research bills reasoning at $3 against $8 output
    deep = calculate_cost("sonar-deep-research", 0, 1_000, reasoning_tokens=600)
    assert deep == (400 * 8 + 600 * 3) / M
    # o3 bills reasoning as output: the count is informational
    assert calculate_cost("o3", 0, 1_000, reasoning_tokens=600) == calculate_cost("o3", 0, 1_000)


def test_reasoning_price_shows_in_the_price_sheet() -> None:
    price = PriceBook.default().resolve("sonar-deep-research", "perplexity")
    assert price is not None
    rates = price.rates()
    assert rates is not None and rates.as_dict()["reasoning"] == Decimal(3)


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(
        [
            "gpt-4o-audio-preview",
            "sonar-pro",
            "sonar-deep-research",
            "claude-sonnet-4-5",
            "gpt-6-sol",
        ]
    ),
    text_in=counts,
    text_out=counts,
    audio_in=counts,
    audio_out=counts,
    reasoning=counts,
    searches=st.integers(min_value=0, max_value=50),
    size=st.sampled_from(["low", "medium", "high"]),
)
def test_track_costs_what_calculate_cost_says(
    model: str,
    text_in: int,
    text_out: int,
    audio_in: int,
    audio_out: int,
    reasoning: int,
    searches: int,
    size: str,
) -> None:
    figures: dict[str, Any] = {
        "audio_input_tokens": audio_in,
        "audio_output_tokens": audio_out,
        "reasoning_tokens": reasoning,
        "units": {"web_search_requests": searches, f"requests_{size}": 1},
    }
    prompt, completion = text_in + audio_in, text_out + audio_out + reasoning
    tracker = TokenTracker()
    record = tracker.track(model, prompt, completion, **figures)
    assert record.cost_usd == calculate_cost(model, prompt, completion, **figures)
    assert dict(record.usage.extra) == figures["units"]
    assert record.usage.audio_output_tokens == audio_out


def test_track_takes_service_tier_and_batch_like_calculate_cost() -> None:
    tracker = TokenTracker()
    flex = tracker.track("gpt-6-sol", 10_000, 1_000, service_tier="flex")
    assert flex.service_tier == "flex"
    assert flex.cost_usd == calculate_cost("gpt-6-sol", 10_000, 1_000, service_tier="flex")
    batch = tracker.track("gpt-6-sol", 10_000, 1_000, batch=True)
    assert batch.cost_usd == calculate_cost("gpt-6-sol", 10_000, 1_000, batch=True)
    assert batch.cost_usd is not None and flex.cost_usd is not None
    assert batch.cost_usd < tracker.track("gpt-6-sol", 10_000, 1_000).cost_usd  # type: ignore[operator]


def test_the_readme_per_unit_fees_example_runs_as_written() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Per-unit fees", 1)[1].split("\n### ", 1)[0]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    tracker = TokenTracker()
    exec(
        compile(block, "README.md#per-unit-fees", "exec"),
        {"calculate_cost": calculate_cost, "tracker": tracker},
    )
    (record,) = tracker.records
    assert record.cost_usd == calculate_cost("sonar-pro", 1_000, 500) + Decimal("0.014")


def test_register_model_takes_per_part_and_per_unit_prices() -> None:
    from tokenbudget import register_model

    register_model(
        "acme-deep", input_per_1m=1, output_per_1m=8, reasoning="3", extra={"requests": "0.002"}
    )
    cost = calculate_cost("acme-deep", 1_000, 1_000, reasoning_tokens=500, units={"requests": 1})
    assert cost == (1_000 * 1 + 500 * 8 + 500 * 3) / M + Decimal("0.002")
