"""Shared setup of the provider tests: a stub price book with the providers' prices, a tracker.

The book is ``tests/support.py``'s :class:`StubBook` over :data:`helpers.PRICES`
(by ``(provider, model)``), so every test can compute its expected cost by hand.
"""

from __future__ import annotations

import pytest

from tokenbudget import TokenTracker

from ..support import StubBook
from .helpers import PRICES


@pytest.fixture
def book() -> StubBook:
    return StubBook(PRICES)


@pytest.fixture
def tracker(book: StubBook) -> TokenTracker:
    return TokenTracker(prices=book)
