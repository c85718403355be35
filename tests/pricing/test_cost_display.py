"""Costs read as people write them: exact, without trailing zeros or exponents.

The pricing engine returns every cost through one normaliser, so a cost from
``calculate_cost()``, a call's record, a tracker's totals and the reports
built from them print as ``1.2825``, never ``1.2825000`` or ``1E+1``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import openai
from hypothesis import given
from hypothesis import strategies as st

from tokenbudget import CallRecord, TokenTracker, Usage, UsageSummary, budget, calculate_cost
from tokenbudget._data import plain_decimal
from tokenbudget.reports import write_csv
from tokenbudget.store import SQLiteStore, add_summaries
from tokenbudget.testing import FakeLLM

ROOT = Path(__file__).resolve().parents[2]


def record(cost: str) -> CallRecord:
    return CallRecord(
        timestamp=datetime(2026, 1, 5, tzinfo=timezone.utc),
        provider="openai",
        model="gpt-4o",
        endpoint="chat",
        usage=Usage(input_tokens=100, output_tokens=20),
        cost_usd=Decimal(cost),  # as a store written before costs were plain holds it
    )


def is_plain(value: Decimal) -> bool:
    """Printed with ``f``: no exponent, and no zero ends a fraction."""
    text = format(value, "f")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return (
        "E" not in text.upper()
        and exponent <= 0
        and not ("." in text and text.endswith("0"))
        and text not in {"-0", "0.0"}
    )


@given(
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.builds(Decimal, st.integers(-(10**40), 10**40)).map(lambda d: d.scaleb(-12))
)
def test_the_normaliser_keeps_the_value_and_drops_only_the_zeros(value: Decimal) -> None:
    plain = plain_decimal(value)
    assert plain == value  # exactly: no rounding, whatever the context precision
    assert is_plain(plain), (value, plain)
    if value != 0 and abs(value) >= Decimal("0.000001"):
        assert "E" not in str(plain)  # the repr people see reads plainly too


def test_the_normaliser_on_the_issue_s_examples() -> None:
    assert repr(plain_decimal(Decimal("1.2825000"))) == "Decimal('1.2825')"
    assert str(plain_decimal(Decimal("0.00400000"))) == "0.004"
    assert repr(plain_decimal(Decimal("0E-7"))) == "Decimal('0')"
    assert repr(plain_decimal(Decimal("1E+1"))) == "Decimal('10')"
    assert format(plain_decimal(Decimal("1.0E-7")), "f") == "0.0000001"


def test_calculate_cost_has_no_trailing_zeros() -> None:
    cost = calculate_cost("gpt-4o", 1000, 1000)
    assert repr(cost) == "Decimal('0.0125')"
    cost = calculate_cost("claude-sonnet-4-5", 300_000, 1_000, cached_input_tokens=100_000)
    assert repr(cost) == "Decimal('1.2825')"


def test_the_readme_pricing_example_is_what_the_code_returns() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Pricing\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"(calculate_cost\(.*?\))\s*# (Decimal\('[^']*'\))", section, re.DOTALL)
    assert found is not None
    call, shown = found.groups()
    assert repr(eval(call, {"calculate_cost": calculate_cost})) == shown


def test_a_real_sdk_call_records_and_totals_plain_costs() -> None:
    tracker = TokenTracker()
    client = openai.OpenAI(
        api_key="sk-fake", http_client=tracker.httpx_client(transport=FakeLLM(reply="Hello."))
    )
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    record = tracker.last_record
    assert record is not None and record.cost_usd is not None
    assert is_plain(record.cost_usd), record.cost_usd
    usage = tracker.usage
    assert is_plain(usage.cost_usd) and usage.cost_usd == 3 * record.cost_usd
    assert is_plain(tracker.total_cost)
    assert f"total_cost_usd={usage.cost_usd}," in repr(usage)
    assert f"cost_usd=Decimal('{record.cost_usd}')" in repr(record)
    out = io.StringIO()
    write_csv(tracker.records, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["cost_usd"] for row in rows] == [str(record.cost_usd)] * 3


def test_summaries_of_any_origin_and_a_budget_s_remainder_are_plain(tmp_path: Path) -> None:
    summary = UsageSummary(cost_usd=Decimal("0.15"), saved_cost_usd=Decimal("0.0500"))
    total = add_summaries(summary, UsageSummary(cost_usd=Decimal("0.05")))
    assert repr(total.cost_usd) == "Decimal('0.2')"  # not 0.20
    assert repr(summary.saved_cost_usd) == "Decimal('0.05')"
    with SQLiteStore(tmp_path / "u.db") as store:
        store.append([record(cost="0.00400000"), record(cost="0.0010")])
        [first, second] = list(store.records())
        assert (str(first.cost_usd), str(second.cost_usd)) == ("0.004", "0.001")
        assert str(store.summary().cost_usd) == "0.005"
    tracker = TokenTracker()
    client = openai.OpenAI(api_key="sk-fake", http_client=tracker.httpx_client(transport=FakeLLM()))
    with budget(max_cost_usd=1) as ctx:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        remaining = ctx.remaining_budget
    assert remaining is not None and is_plain(remaining), remaining
