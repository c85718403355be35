"""Grounding with Google Search as billed units: :class:`GroundingCounter`.

Gemini 2.x bills each grounded prompt, Gemini 3 each distinct non-empty search
query (Google's pricing page); the counter gives both units and the price data
of each model prices its own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tokenbudget import Usage, calculate_cost
from tokenbudget.providers.google import GroundingCounter


def grounded(*queries: Any) -> list[dict[str, Any]]:
    return [{"content": {}, "groundingMetadata": {"webSearchQueries": list(queries)}}]


def test_queries_become_both_units() -> None:
    counter = GroundingCounter()
    counter.feed(grounded("acme revenue", "acme q3"))
    assert counter.units() == {"grounded_prompts": 1, "web_search_requests": 2}
    usage = counter.apply(Usage(input_tokens=10, output_tokens=5))
    assert usage is not None and dict(usage.extra) == counter.units()


def test_repeated_and_empty_queries_count_once_or_not_at_all() -> None:
    counter = GroundingCounter()
    counter.feed(grounded("", "acme", "  "))
    counter.feed(grounded("acme", "widgets"))  # a stream repeating its metadata
    assert counter.units() == {"grounded_prompts": 1, "web_search_requests": 2}


def test_no_search_no_units() -> None:
    counter = GroundingCounter()
    counter.feed([{"content": {}, "finishReason": "STOP"}])
    counter.feed(grounded(""))
    usage = Usage(input_tokens=3)
    assert counter.units() == {}
    assert counter.apply(usage) is usage
    assert counter.apply(None) is None


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=20), inner, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_any_shape_is_safe(candidates: Any) -> None:
    counter = GroundingCounter()
    counter.feed(candidates)
    counter.feed([{"groundingMetadata": candidates}])
    counter.feed([{"groundingMetadata": {"webSearchQueries": candidates}}])
    units = counter.units()
    assert set(units) <= {"grounded_prompts", "web_search_requests"}


def test_gemini_2_bills_the_prompt_and_gemini_3_the_queries() -> None:
    units = {"grounded_prompts": 1, "web_search_requests": 3}
    base_25 = calculate_cost("gemini-2.5-pro", 1_000, 100)
    assert calculate_cost("gemini-2.5-pro", 1_000, 100, units=units) - base_25 == Decimal("0.035")
    base_3 = calculate_cost("gemini-3-pro-preview", 1_000, 100)
    assert calculate_cost("gemini-3-pro-preview", 1_000, 100, units=units) - base_3 == 3 * Decimal(
        "0.014"
    )
