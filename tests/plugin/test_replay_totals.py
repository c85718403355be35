"""A test's totals read the same live and replayed: ``total_cost``, ``usage``, ``repr``."""

from __future__ import annotations

import pytest

from .helpers import cost_of, suite

#: Asserts the fixture's figures against the cost of two calls, measured outside pytester.
TOTALS = """
from decimal import Decimal

import llm

EXPECTED = Decimal("{expected}")

def test_totals(tokenbudget):
    client = llm.client()
    llm.ask(client, "one")
    llm.ask(client, "one")
    assert tokenbudget.total_cost == EXPECTED
    assert tokenbudget.total_cost_usd == float(EXPECTED)
    assert tokenbudget.cost == EXPECTED
    usage = tokenbudget.usage
    assert usage.cost_usd == EXPECTED and usage.calls == 2
    assert usage.cached_calls == 0 and usage.saved_cost_usd == 0
    assert repr(usage) == (
        f"Usage(total_tokens={{usage.total_tokens}}, total_cost_usd={{EXPECTED}}, calls=2)"
    )
    assert tokenbudget.usage_by_model["gpt-4o"].cost_usd == EXPECTED
    assert tokenbudget.usage_by_provider["openai"].cost_usd == EXPECTED
    assert f"${{EXPECTED}}" in repr(tokenbudget)
    # what was really paid: everything live, nothing when replayed
    paid = tokenbudget.paid_usage
    if tokenbudget.replaying:
        assert paid.cost_usd == 0 and paid.saved_cost_usd == EXPECTED and paid.cached_calls == 2
        assert tokenbudget.cache_stats.saved_cost_usd == EXPECTED
    else:
        assert paid == usage
"""


def test_total_cost_and_usage_are_the_recorded_ones_when_replayed(
    pytester: pytest.Pytester,
) -> None:
    suite(pytester, test_totals=TOTALS.format(expected=cost_of("one", times=2)))
    live = pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-record=rec")
    live.assert_outcomes(passed=1)
    replayed = pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-replay=rec")
    replayed.assert_outcomes(passed=1)
    plain = pytester.runpytest("-p", "no:cacheprovider")
    plain.assert_outcomes(passed=1)
