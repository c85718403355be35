"""Costs read as people write them: exact, without trailing zeros or exponents.

The pricing engine returns every cost through one normaliser, so a cost from
``calculate_cost()``, a call's record, a tracker's totals and the reports
built from them print as ``1.2825``, never ``1.2825000`` or ``1E+1``.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import openai
from hypothesis import given
from hypothesis import strategies as st

from tokenbudget import TokenTracker, calculate_cost
from tokenbudget._data import plain_decimal
from tokenbudget.reports import write_csv
from tokenbudget.testing import FakeLLM

ROOT = Path(__file__).resolve().parents[2]


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
