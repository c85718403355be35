"""A tracker's kept cost functions price every call as the price book's full path does.

``TrackerPrices`` keeps the book's compiled cost function per (provider, model,
tier, batch), and ``CompiledRates.cost`` prices plain input and output tokens
in a short line: the cost must be the very same ``Decimal`` (value and form)
as ``PriceBook.cost`` gives, for any usage.
"""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from tokenbudget import Usage
from tokenbudget._tracker._prices import TrackerPrices
from tokenbudget.pricing import PriceBook

_counts = st.integers(min_value=0, max_value=10**9)
_small = st.integers(min_value=0, max_value=1000)

usages = st.builds(
    Usage,
    input_tokens=_counts,
    output_tokens=_counts,
    cached_input_tokens=st.sampled_from([0, 0, 1, 500]),
    cache_write_tokens=st.sampled_from([0, 0, 3]),
    reasoning_tokens=_small,
    audio_input_tokens=_small,
    audio_output_tokens=_small,
    extra=st.dictionaries(st.sampled_from(["web_search_requests", "other_unit"]), _small),
)

MODELS = [
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o-audio-preview"),
    ("anthropic", "claude-sonnet-4-5"),
    ("google", "gemini-2.5-pro"),
    (None, "gpt-4o"),
]
AT = datetime(2026, 12, 5, tzinfo=timezone.utc)
PRICES = TrackerPrices(PriceBook.load())


@settings(max_examples=300, deadline=None)
@given(
    usages,
    st.sampled_from(MODELS),
    st.sampled_from([None, "default", "flex", "priority"]),
    st.booleans(),
)
def test_the_kept_cost_function_gives_the_books_cost(
    usage: Usage, model: tuple[str | None, str], tier: str | None, batch: bool
) -> None:
    provider, name = model
    expected = PRICES.book.cost(provider, name, usage, service_tier=tier, batch=batch, at=AT)
    first = PRICES.cost(provider, name, usage, tier, batch, AT)  # may keep the function
    again = PRICES.cost(provider, name, usage, tier, batch, AT)  # through the kept one
    assert first == again == expected
    assert str(first) == str(again) == str(expected)
    if expected is not None:
        assert again is not None and again.as_tuple() == expected.as_tuple()


def test_the_version_follows_a_registration() -> None:
    book = PriceBook.load()
    prices = TrackerPrices(book)
    before = prices.version()
    assert before == book.version and prices.version() == before
    book.register("kept-pricer-test-model", input_per_1m=1, output_per_1m=2)
    assert prices.version() == book.version != before


def test_a_book_without_a_generation_is_asked_its_version_each_time() -> None:
    class Book:
        version = "v1"

        def cost(self, *args: object, **kwargs: object) -> None:
            return None

    book = Book()
    prices = TrackerPrices(book)  # type: ignore[arg-type]
    assert prices.version() == "v1"
    book.version = "v2"
    assert prices.version() == "v2"
