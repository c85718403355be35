"""How reports show numbers: humanised tokens, money that never hides a small call, widths."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tokenbudget.reports import clean, display_width, human_tokens, pad, usd


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0"),
        (7, "7"),
        (999, "999"),
        (1000, "1.00k"),
        (1234, "1.23k"),
        (12_345, "12.3k"),
        (123_456, "123k"),
        (999_499, "999k"),
        (999_500, "1.00M"),  # rounding rolls over into the next unit
        (12_345_678, "12.3M"),
        (2_500_000_000, "2.50B"),
        (-12_345, "-12.3k"),
    ],
)
def test_human_tokens(count: int, text: str) -> None:
    assert human_tokens(count) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0", "$0.00"),
        ("1", "$1.00"),
        ("1234.567", "$1,234.57"),
        ("0.5", "$0.5"),
        ("0.0421", "$0.0421"),
        ("0.99996", "$1.00"),
        ("0.009999", "$0.01"),
        ("0.000135", "$0.000135"),
        ("0.00001234", "$0.0000123"),
        ("0.00000016", "$0.00000016"),
        ("0.00000000000001", "<$0.0000000001"),
        ("0.00400000", "$0.004"),
        ("0.0000100", "$0.00001"),
        ("-0.5", "-$0.5"),
    ],
)
def test_usd_never_shows_a_small_cost_as_zero(amount: str, text: str) -> None:
    assert usd(Decimal(amount)) == text


def test_display_width_counts_terminal_cells() -> None:
    assert display_width("gpt-4o") == 6
    assert display_width("通义千问") == 8  # wide
    assert display_width("cafe\u0301") == 4  # combining accent takes no cell
    assert display_width("🚀") == 2
    assert pad("通义", 6) == "通义  "
    assert pad("7", 3, right=True) == "  7"


def test_clean_makes_names_safe_for_one_cell() -> None:
    assert clean("a\nb\tc") == "a?b?c"
    assert clean("evil\u202etxt") == "evil?txt"  # a bidi override would reorder the row
    assert clean("x" * 60, 10) == "x" * 9 + "…"
    assert display_width(clean("通" * 30, 11)) <= 11
