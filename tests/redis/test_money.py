"""Dollars as Redis integers: exact where the price data is, rounded up (never down) elsewhere."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tokenbudget import Usage
from tokenbudget.pricing import PriceBook
from tokenbudget.redis._money import from_limbs, from_pico, to_limbs, to_pico, units

PROVIDERS = ("anthropic", "azure", "deepseek", "fireworks", "google", "groq", "mistral")
PROVIDERS += ("openai", "openrouter", "perplexity", "together", "xai")


@pytest.mark.parametrize(
    ("amount", "places", "up", "expected"),
    [
        ("1.5", 0, True, (2, False)),
        ("1.5", 0, False, (1, False)),
        ("-1.5", 0, True, (-1, False)),
        ("-1.5", 0, False, (-2, False)),
        ("0.000001", 6, True, (1, True)),
        ("1E+3", 2, True, (100_000, True)),
        ("123456789012345678901234567890.123", 3, True, (123456789012345678901234567890123, True)),
    ],
)
def test_units_are_integer_arithmetic(
    amount: str, places: int, up: bool, expected: tuple[int, bool]
) -> None:
    assert units(Decimal(amount), places, up=up) == expected


def test_limbs_hold_27_decimals_and_round_up_beyond() -> None:
    amount = Decimal("12345.123456789123456789123456789")
    limbs, exact = to_limbs(amount)
    assert exact and limbs == (12345123456789, 123456789, 123456789)
    assert from_limbs(*limbs) == amount
    assert to_limbs(Decimal("1e-28")) == ((0, 0, 1), False)
    summed = [
        sum(parts)
        for parts in zip(
            *(to_limbs(Decimal("0.999999999999999999"))[0] for _ in range(10)), strict=True
        )
    ]
    assert from_limbs(*summed) == Decimal(
        "9.99999999999999999"
    )  # unnormalised sums read back exactly


def test_pico_pairs_round_costs_up_and_limits_down() -> None:
    assert to_pico(Decimal("200")) == (200_000_000, 0)
    assert to_pico(Decimal("0.0000000000001")) == (0, 1)
    assert to_pico(Decimal("0.0000000000019"), up=False) == (0, 1)
    assert from_pico(1_250_000, 5) == Decimal("1.250000000005")


def test_every_built_in_price_is_exact_in_the_store_fields() -> None:
    book = PriceBook.default()
    usage = Usage(input_tokens=1, output_tokens=1, cached_input_tokens=1, cache_write_tokens=1)
    inexact_pico = []
    for provider in PROVIDERS:
        for name in book.models(provider):
            for batch in (False, True):
                cost = book.cost(provider, name, usage, batch=batch)
                if cost is None:
                    continue
                assert to_limbs(cost)[1], (provider, name, cost)
                if units(cost, 12)[1] is False:
                    inexact_pico.append(provider)
    assert set(inexact_pico) <= {"openrouter"}  # a few entries carry float noise (0.0416666...64)
