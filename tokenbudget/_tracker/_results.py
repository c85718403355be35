"""What a tracker tells about its calls: totals, records, callbacks, tags and the cache's counters.

``TokenTracker`` inherits these methods; they read the parts the tracker is
built from (its ledger, its cache, its budgets) and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from decimal import Decimal

from .._core import ResponseCache
from .._data import CallRecord, UsageSummary, check_usage
from ..budgets import Budget
from ..cache import CacheStats, cache_stats, no_cache, refresh_cache
from ..store import Ledger, RecordCallback
from ._tags import tag

__all__ = ["TrackerResults"]


class TrackerResults:
    """Results, callbacks, budgets, tags and cache controls of ``TokenTracker``."""

    _ledger: Ledger
    _cache: ResponseCache | None
    #: Budgets every call of this tracker is held to, in every context.
    budgets: list[Budget]

    @property
    def usage(self) -> UsageSummary:
        """Totals over every call recorded."""
        return self._ledger.summary()

    @property
    def usage_by_provider(self) -> dict[str, UsageSummary]:
        """Totals per provider."""
        return self._ledger.by_provider()

    @property
    def usage_by_model(self) -> dict[str, UsageSummary]:
        """Totals per billed model."""
        return self._ledger.by_model()

    def usage_by_tag(self, name: str | None = None) -> dict[str, UsageSummary]:
        """Totals per value of tag ``name`` (or per ``name=value`` over all tags)."""
        return self._ledger.by_tag(name)

    @property
    def total_cost(self) -> Decimal:
        """Exact cost of every priced call, in US dollars."""
        return self._ledger.summary().cost_usd

    @property
    def total_cost_usd(self) -> float:
        """:attr:`total_cost` as a float, for display."""
        return float(self.total_cost)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens of every call."""
        return self._ledger.summary().total_tokens

    @property
    def records(self) -> list[CallRecord]:
        """The most recent call records (``max_records`` of them), oldest first."""
        return self._ledger.records

    @property
    def last_record(self) -> CallRecord | None:
        """The most recent call record."""
        records = self._ledger.records
        return records[-1] if records else None

    def add_record(self, record: CallRecord) -> None:
        """Record a call built elsewhere (another process's, an imported history) as it is.

        Raises ``TypeError`` or ``ValueError`` when its usage holds a figure that is
        not a token count (an int from 0 to 1,000,000,000): nothing is recorded.
        """
        check_usage(record.usage)
        self._ledger.record(record)

    def reset(self) -> None:
        """Forget every call recorded so far."""
        self._ledger.reset()

    def on_record(self, callback: RecordCallback) -> RecordCallback:
        """Run ``callback(record)`` after every call; usable as a decorator."""
        self._ledger.add_callback(callback)
        return callback

    def remove_on_record(self, callback: RecordCallback) -> None:
        """Stop running ``callback`` (given to :meth:`on_record`); ``ValueError`` if it is not."""
        self._ledger.remove_callback(callback)

    def add_budget(self, budget: Budget) -> Budget:
        """Hold every call of this tracker, in every context, to ``budget``; returns it."""
        self.budgets.append(budget)
        return budget

    def tag(self, **labels: object) -> AbstractContextManager[Mapping[str, str]]:
        """Label the calls made in a ``with`` block: ``with tracker.tag(feature="search"):``."""
        return tag(**labels)

    # -- response cache ------------------------------------------------------------

    @property
    def cache(self) -> ResponseCache | None:
        """The response cache (a ``CallCache`` unless another was given), or ``None``."""
        return self._cache

    @property
    def cache_stats(self) -> CacheStats:
        """Hits, misses, hit rate, entries and what the hits saved (zeros without a cache)."""
        return cache_stats(self._cache, self._ledger.summary().saved_cost_usd)

    def clear_cache(self) -> None:
        """Forget every stored answer (the counters are kept)."""
        clear = getattr(self._cache, "clear", None)
        if clear is not None:
            clear()

    def no_cache(self) -> AbstractContextManager[None]:
        """This tracker's calls in a ``with`` block neither read nor fill the cache."""
        return no_cache(tracker=self)

    def refresh_cache(self) -> AbstractContextManager[None]:
        """This tracker's calls in a ``with`` block skip the lookup and store fresh answers."""
        return refresh_cache(tracker=self)
