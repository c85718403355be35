"""Golden tests of the box-drawn table: number widths, optional columns, unicode alignment."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tokenbudget import CallRecord, TokenTracker
from tokenbudget.reports import display_width, generate_table_report
from tokenbudget.store import SQLiteStore

from ..support import record, varied_records
from .helpers import FixedSource, summary

PROVIDERS = """\
┌───────────┬───────┬────────┬───────────┐
│ Provider  │ Calls │ Tokens │      Cost │
├───────────┼───────┼────────┼───────────┤
│ anthropic │ 1,234 │  1.23M │ $1,234.57 │
│ openai    │    12 │  12.3k │   $0.0421 │
│ google    │     1 │      7 │ $0.000135 │
│ mistral   │     3 │  1.00M │     $0.00 │
├───────────┼───────┼────────┼───────────┤
│ Total     │ 1,250 │  2.25M │ $1,234.61 │
└───────────┴───────┴────────┴───────────┘
"""

OPTIONAL_COLUMNS = """\
┌──────────┬───────┬────────┬───────┬────────┬────────┬──────────┐
│ Model    │ Calls │ Tokens │  Cost │ Cached │  Saved │ Unpriced │
├──────────┼───────┼────────┼───────┼────────┼────────┼──────────┤
│ gpt-4o   │     5 │  5.00k │ $0.01 │      2 │ $0.004 │        0 │
│ my-model │     2 │    300 │     - │      0 │  $0.00 │        2 │
├──────────┼───────┼────────┼───────┼────────┼────────┼──────────┤
│ Total    │     7 │  5.30k │ $0.01 │      2 │ $0.004 │        2 │
└──────────┴───────┴────────┴───────┴────────┴────────┴──────────┘
"""

UNICODE_MODELS = """\
┌──────────────┬───────┬────────┬───────────┐
│ Model        │ Calls │ Tokens │      Cost │
├──────────────┼───────┼────────┼───────────┤
│ 通义千问-max │     1 │  1.20k │   $0.0016 │
│ gpt-4o       │     1 │     11 │ $0.000035 │
│ cafe\u0301-7b      │     1 │     55 │  $0.00001 │
│ evil?model?  │     1 │      2 │ $0.000001 │
├──────────────┼───────┼────────┼───────────┤
│ Total        │     4 │  1.27k │  $0.00165 │
└──────────────┴───────┴────────┴───────────┘
"""

ALL_TAGS = """\
┌───────────────────┬───────┬────────┬───────────┐
│ Tag               │ Calls │ Tokens │      Cost │
├───────────────────┼───────┼────────┼───────────┤
│ feature=🚀 launch │     1 │  1.20k │   $0.0016 │
│ team=x            │     1 │     11 │ $0.000035 │
│ feature=naïve     │     1 │     55 │  $0.00001 │
├───────────────────┼───────┼────────┼───────────┤
│ Total             │     4 │  1.27k │  $0.00165 │
└───────────────────┴───────┴────────┴───────────┘
A call with several tags is counted once per tag; Total counts it once.
"""

ONE_TAG = """\
┌───────────┬───────┬────────┬───────────┐
│ feature   │ Calls │ Tokens │      Cost │
├───────────┼───────┼────────┼───────────┤
│ 🚀 launch │     1 │  1.20k │   $0.0016 │
│ naïve     │     1 │     55 │  $0.00001 │
│ (none)    │     2 │     13 │ $0.000036 │
├───────────┼───────┼────────┼───────────┤
│ Total     │     4 │  1.27k │  $0.00165 │
└───────────┴───────┴────────┴───────────┘
"""

EMPTY = """\
┌──────────┬───────┬────────┬───────┐
│ Provider │ Calls │ Tokens │  Cost │
├──────────┼───────┼────────┼───────┤
│ Total    │     0 │      0 │ $0.00 │
└──────────┴───────┴────────┴───────┘
"""

DAYS = """\
┌────────────┬───────┬────────┬───────┐
│ Day        │ Calls │ Tokens │  Cost │
├────────────┼───────┼────────┼───────┤
│ 2026-01-05 │     1 │    120 │ $0.01 │
│ 2026-01-06 │     1 │    120 │ $2.00 │
│ 2026-01-07 │     1 │    120 │ $0.03 │
├────────────┼───────┼────────┼───────┤
│ Total      │     3 │    360 │ $2.04 │
└────────────┴───────┴────────┴───────┘
"""


def _unicode_records() -> list[CallRecord]:
    return [
        record(
            "通义千问-max", 1000, 200, "0.0016", provider="alibaba", tags={"feature": "🚀 launch"}
        ),
        record("cafe\u0301-7b", 50, 5, "0.00001", provider="local", tags={"feature": "naïve"}),
        record("gpt-4o", 10, 1, "0.0000350", tags={"team": "x"}),
        record("evil\nmodel\u202e", 1, 1, "0.000001"),
    ]


def _assert_aligned(table: str) -> None:
    """Every line of the box takes the same number of terminal cells."""
    box = [line for line in table.splitlines() if line[:1] in "┌│├└"]
    assert len({display_width(line) for line in box}) == 1, table


def test_numbers_of_every_width_line_up() -> None:
    source = FixedSource(
        {
            "openai": summary(12, 12_345, "0.0421"),
            "anthropic": summary(1_234, 1_234_567, "1234.567"),
            "google": summary(1, 7, "0.000135"),
            "mistral": summary(3, 999_950, "0"),
        },
        summary(1_250, 2_246_869, "1234.609235"),
    )
    table = generate_table_report(source, by="provider")
    assert table == PROVIDERS
    _assert_aligned(table)


def test_cached_saved_and_unpriced_columns_appear_when_needed() -> None:
    source = FixedSource(
        {
            "gpt-4o": summary(5, 5000, "0.01", cached_calls=2, saved_cost_usd=Decimal("0.004")),
            "my-model": summary(2, 300, "0", unpriced_calls=2),
        },
        summary(7, 5300, "0.01", cached_calls=2, saved_cost_usd=Decimal("0.004"), unpriced_calls=2),
    )
    assert generate_table_report(source, by="model") == OPTIONAL_COLUMNS


@pytest.mark.parametrize(
    ("by", "golden"), [("model", UNICODE_MODELS), ("tag", ALL_TAGS), ("tag:feature", ONE_TAG)]
)
def test_unicode_names_are_aligned_by_display_width(by: str, golden: str) -> None:
    table = generate_table_report(_unicode_records(), by=by)
    assert table == golden
    _assert_aligned(table)


def test_days_run_oldest_first() -> None:
    records = [
        record(cost="2", days=1),
        record(cost="0.03", days=2),
        record(cost="0.01", days=0),
    ]
    table = generate_table_report(records, by="day")
    assert table == DAYS
    _assert_aligned(table)


def test_empty_source_shows_a_zero_total() -> None:
    assert generate_table_report([], by="provider") == EMPTY


def test_tracker_store_and_records_give_the_same_table() -> None:
    records = varied_records()
    tracker = TokenTracker()
    for one in records:
        tracker.add_record(one)
    with SQLiteStore(":memory:") as store:
        store.append(records)
        for by in ("provider", "model", "day", "tag", "tag:feature"):
            expected = generate_table_report(records, by=by)
            assert generate_table_report(tracker, by=by) == expected, by
            assert generate_table_report(store, by=by) == expected, by


def test_bad_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot group by 'colour'"):
        generate_table_report([], by="colour")
