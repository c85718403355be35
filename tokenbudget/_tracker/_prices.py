"""A tracker's prices: its price book, loaded on first use, and the pricing port of its calls.

Pricing a call never fails the call: an error is logged once per model and the
call is recorded as unpriced, as is a model the book does not know (one
warning per provider and model).

The per-call path is one dict lookup and the arithmetic: the book's compiled
cost function of each ``(provider, model, service tier, batch)`` is kept here
(``PriceBook.pricer``), tagged with the book's ``generation``, so a
registration or any other change to the book's prices is seen on the next call.
Calls whose price depends on the date, or that the book cannot price, take the
full path (``PriceBook.cost``) each time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from .._core import logger, renew_after_fork, warn_once
from .._data import Usage
from ..pricing import PriceBook

__all__ = ["PriceSource", "TrackerPrices"]

#: What ``TokenTracker(prices=...)`` accepts.
PriceSource = str | os.PathLike[str] | PriceBook | None

_PricerKey = tuple["str | None", "str | None", "str | None", bool]
_Pricer = Callable[[Usage], Decimal]
_MISS: tuple[int | None, _Pricer | None] = (None, None)
#: The generation of a version not read yet (equal to no book's).
_UNREAD = object()
#: At most this many kept cost functions (one per model, tier and batch a tracker meets).
_MAX_PRICERS = 4096


class TrackerPrices:
    """The price book of one tracker and the way its calls are priced."""

    def __init__(self, source: PriceSource) -> None:
        self._source = source
        self._book: PriceBook | None = None
        #: (book generation, cost function or None) per (provider, model, tier, batch).
        self._pricers: dict[_PricerKey, tuple[int | None, _Pricer | None]] = {}
        #: (book generation, the book's version read at it): one object, read whole.
        self._versioned: tuple[object, str | None] = (_UNREAD, None)
        self._lock = threading.Lock()
        renew_after_fork(self, "_lock", threading.Lock)

    @property
    def book(self) -> PriceBook:
        """The price book (the built-in one plus ``$TOKENBUDGET_PRICES``, or the one given)."""
        book = self._book
        if book is None:
            with self._lock:
                if self._book is None:
                    self._book = _load_book(self._source)
                book = self._book
        return book

    def version(self) -> str | None:
        """The version of the price data, kept on each record; ``None`` if it cannot load."""
        # Asked once per call: the book's version is kept with the generation it was
        # read at (a registration bumps the generation), so this is two attribute reads.
        generation, version = self._versioned
        try:
            if self._book.generation == generation:  # type: ignore[union-attr]
                return version
        except AttributeError:  # no book yet, or a book of its own (no generation)
            pass
        return self._read_version()

    def _read_version(self) -> str | None:
        try:
            book = self._book or self.book
            generation = getattr(book, "generation", None)  # read first: never newer
            version = book.version
        except Exception:
            return None
        if generation is not None:
            self._versioned = (generation, version)
        return version

    def cost(
        self,
        provider: str | None,
        model: str | None,
        usage: Usage,
        service_tier: str | None,
        batch: bool,
        at: datetime,
    ) -> Decimal | None:
        """What a call cost (the pricing port); ``None`` when it cannot be priced."""
        generation, pricer = self._pricers.get((provider, model, service_tier, batch), _MISS)
        # Only a PriceBook's cost functions are kept, so its generation is there to read;
        # a model of None is never kept.
        if (
            pricer is not None
            and usage.reported_cost_usd is None
            and generation == self._book.generation  # type: ignore[union-attr]
        ):
            try:
                return pricer(usage)
            except Exception:
                pass  # the full path below logs it
        return self._full_cost(provider, model, usage, service_tier, batch, at)

    def _full_cost(
        self,
        provider: str | None,
        model: str | None,
        usage: Usage,
        service_tier: str | None,
        batch: bool,
        at: datetime,
    ) -> Decimal | None:
        if model is None:
            return usage.reported_cost_usd
        try:
            book = self.book
            cost = book.cost(provider, model, usage, service_tier=service_tier, batch=batch, at=at)
        except Exception:
            warn_once(f"price:{provider}:{model}", "tokenbudget: pricing %s failed", model)
            logger.debug("pricing failure", exc_info=True)
            return None
        if usage.reported_cost_usd is None:
            try:
                self._keep_pricer(book, provider, model, service_tier, batch)
            except Exception:  # the next call takes the full path again
                logger.debug("compiling a price failed", exc_info=True)
        if cost is None:
            # A call tracked by hand may name no provider: say so rather than "None".
            asked = (
                f"{provider} model {model!r}"
                if provider
                else f"model {model!r} (no provider given)"
            )
            warn_once(
                f"unpriced:{provider}:{model}",
                "tokenbudget: no price known for %s; its calls are recorded "
                "as unpriced (register_model() or a price file adds it)",
                asked,
            )
        return cost

    def _keep_pricer(
        self,
        book: PriceBook,
        provider: str | None,
        model: str,
        service_tier: str | None,
        batch: bool,
    ) -> None:
        """Keep the book's compiled cost function for the next calls like this one."""
        kind = type(book)
        if not issubclass(kind, PriceBook) or kind.cost is not PriceBook.cost:
            return  # a book of its own: its cost() is asked every time
        key = (provider, model, service_tier, batch)
        generation = book.generation
        if self._pricers.get(key, _MISS)[0] == generation:
            return  # known already (a date-dependent price keeps None)
        if len(self._pricers) >= _MAX_PRICERS:
            self._pricers = {}
        self._pricers[key] = (generation, book.pricer(provider, model, service_tier, batch))

    def provider_of(self, model: str) -> str:
        """The provider the book knows ``model`` from, or ``"unknown"``."""
        try:
            found = self.book.resolve(model)
        except Exception:
            found = None
        return getattr(found, "provider", None) or "unknown"


def _load_book(source: Any) -> PriceBook:
    if source is not None and hasattr(source, "cost"):
        book: PriceBook = source  # a PriceBook, or anything with its interface
        return book
    if source is None:
        return PriceBook.default()
    return PriceBook.load(source)
