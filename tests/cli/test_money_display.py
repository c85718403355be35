"""Money a person reads is exact and plain: ``$0.0000096``, never ``$0.00000960`` or ``9.6E-6``.

Exact Decimals stay in the API; every place that prints money (the examples,
the price commands, CSV and JSON reports) prints them without trailing zeros.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from tokenbudget import CallRecord, Usage
from tokenbudget.cli import main
from tokenbudget.reports import write_csv, write_json

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: A dollar amount ending in a meaningless zero: $0.00000960, $1.50, $0.000000.
_TRAILING_ZERO = re.compile(r"\$\d+\.\d*0(?!\d)")


def run_example(name: str) -> str:
    result = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_quickstart_prints_plain_costs() -> None:
    out = run_example("quickstart.py")
    assert re.search(r"^\s+chat\s+gpt-4o-mini\s+in=24\s+out=10\s+\$0\.0000096$", out, re.M), out
    assert not _TRAILING_ZERO.search(out), out


@pytest.mark.parametrize("name", ["caching.py", "multi_provider.py"])
def test_other_examples_print_plain_costs(name: str) -> None:
    out = run_example(name)
    assert "$" in out
    assert not _TRAILING_ZERO.search(out), out


def test_the_cost_command_prints_plain_dollars(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "gpt-4o-mini", "--input", "24", "--output", "10"]) == 0
    assert capsys.readouterr().out.split()[0] == "$0.0000096"


def _record(cost: str, reported: str) -> CallRecord:
    return CallRecord(
        timestamp=datetime(2026, 12, 5, tzinfo=timezone.utc),
        provider="openrouter",
        model="gpt-4o",
        endpoint="chat",
        usage=Usage(input_tokens=10, output_tokens=2, reported_cost_usd=Decimal(reported)),
        cost_usd=Decimal(cost),
    )


def test_csv_and_json_reports_write_plain_money() -> None:
    # A record built by hand (or read from an old store) may carry trailing zeros.
    records = [_record("0.00400000", "0.0000960")]
    out = io.StringIO()
    write_csv(records, out)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["cost_usd"], row["reported_cost_usd"]) == ("0.004", "0.000096")
    out = io.StringIO()
    write_json(records, out, source="test")
    call = json.loads(out.getvalue())["calls"][0]
    assert call["cost_usd"] == "0.004"
    assert call["usage"]["reported_cost_usd"] == "0.000096"
