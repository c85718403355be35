"""Gemini preview ids resolve to their flagship only where Google billed them alike.

Google's pricing page billed the Gemini 2.5 Pro previews (03-25, 05-06, 06-05)
and the 2.5 Flash-Lite 09-2025 preview at the stable model's rates, so a call
answered under those names costs what the stable model costs. Previews billed
differently keep their own price (2.5 Flash 04-17/05-20) or stay unknown at
Google (2.5 Flash-Lite 06-17: audio input was dearer than the stable model's),
and an experimental id (free while it ran) is never priced as the flagship.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tokenbudget import Usage
from tokenbudget.pricing import PriceBook

BOOK = PriceBook()
SHORT = Usage(input_tokens=10_000, output_tokens=2_000)
LONG = Usage(input_tokens=250_000, output_tokens=2_000)  # the >200k prompt tier


@pytest.mark.parametrize(
    ("preview", "flagship"),
    [
        ("gemini-2.5-pro-preview-03-25", "gemini-2.5-pro"),
        ("gemini-2.5-pro-preview-05-06", "gemini-2.5-pro"),
        ("gemini-2.5-pro-preview-06-05", "gemini-2.5-pro"),
        ("models/gemini-2.5-pro-preview-06-05", "gemini-2.5-pro"),
        ("gemini-2.5-flash-lite-preview-09-2025", "gemini-2.5-flash-lite"),
        ("gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash"),
    ],
)
@pytest.mark.parametrize("provider", [None, "google", "vertex"])
def test_previews_billed_like_the_flagship_cost_the_same(
    preview: str, flagship: str, provider: str | None
) -> None:
    found = BOOK.resolve(preview, provider)
    assert found is not None and (found.provider, found.entry.id) == ("google", flagship)
    for usage in (SHORT, LONG):
        assert BOOK.cost(provider, preview, usage) == BOOK.cost(provider, flagship, usage)


def test_a_pro_preview_pays_the_long_prompt_tier() -> None:
    cost = BOOK.cost("google", "gemini-2.5-pro-preview-06-05", LONG)
    assert cost == (Decimal(250_000) * Decimal("2.5") + Decimal(2_000) * 15) / 1_000_000


@pytest.mark.parametrize(
    ("preview", "own_entry"),
    [
        ("gemini-2.5-flash-preview-05-20", "gemini-2.5-flash-preview"),
        ("gemini-2.5-flash-preview-04-17", "gemini-2.5-flash-preview"),
        ("gemini-3-pro-preview", "gemini-3-pro-preview"),
        ("gemini-3.1-pro-preview", "gemini-3.1-pro-preview"),
    ],
)
def test_previews_with_their_own_price_keep_it(preview: str, own_entry: str) -> None:
    found = BOOK.resolve(preview, "google")
    assert found is not None and found.entry.id == own_entry


@pytest.mark.parametrize(
    "name",
    [
        "gemini-2.5-flash-lite-preview-06-17",  # audio input billed above the stable price
        "gemini-2.5-pro-exp-03-25",  # experimental: free, never the flagship's price
        "gemini-2.5-pro-preview-01-01",  # no such preview
        "gemini-2.5-pro-preview",
    ],
)
def test_other_previews_are_not_given_the_flagship_price(name: str) -> None:
    found = BOOK.resolve(name, "google")
    assert found is None or found.entry.id not in {"gemini-2.5-pro", "gemini-2.5-flash-lite"}
