"""A tracker's history: its store, range queries, reprice and exports.

``TokenTracker`` inherits these methods; they read the parts the tracker is
built from (its ledger and its prices) and the store opened here.

With ``TokenTracker(store="usage.db")``:

- every call is queued for the store under the ledger's lock and written by a
  background thread (:class:`~tokenbudget.store.StoreWriter`): the LLM call
  never waits for the disk or for another process's lock;
- ``tracker.usage`` (and ``usage_by_*``) start from the store's totals when the
  tracker opens and add this tracker's calls as they happen, from memory;
  calls other processes make meanwhile are not in them;
- ``usage_between``, ``usage_since``, ``history`` and the exports read the store
  (after writing what is queued), so they see every process's calls;
- ``reprice()`` rewrites stored costs with the tracker's current prices, then
  reloads ``tracker.usage`` from the store. ``tracker.records`` (the in-memory
  window) keeps the costs the calls were recorded with.

Without a store the same methods work on the in-memory records (the latest
``max_records`` calls), with a warning when older calls have left that window.

Fork (gunicorn ``--preload``, celery prefork, ``multiprocessing``): a tracker
made before ``fork`` works in every child, which writes its own calls (the
writer and the store start afresh there; the calls queued in the parent stay
the parent's). A child writes what it queued when it exits normally (atexit),
and a ``multiprocessing`` worker, which leaves without atexit, when
multiprocessing runs its exit handlers. A worker killed by a signal loses what
it had queued, as any process does: call ``tracker.flush()`` where that matters.
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import TracebackType
from typing import TypeVar

from .._core import after_fork_in_child
from .._data import CallRecord, Usage, UsageSummary
from ..reports import TrackerSource, UsageSource, export_csv, export_json, make_query
from ..store import (
    Ledger,
    RepriceResult,
    StoreError,
    StoreSpec,
    StoreWriter,
    UsageAggregates,
    UsageStore,
    open_store,
)
from ._prices import TrackerPrices

__all__ = ["TrackerHistory"]

T = TypeVar("T", bound="TrackerHistory")
Moment = datetime | date


def _shut(writer: StoreWriter, store: UsageStore | None) -> None:
    """Write what is queued and close; run by close(), garbage collection or exit."""
    writer.close()
    if store is not None:
        store.close()


def _close_when_worker_exits(tracker: TrackerHistory) -> None:
    """In a multiprocessing worker: close ``tracker`` when the worker's exit handlers run.

    multiprocessing clears its exit handlers in a new worker and then runs its
    "after fork" ones: this is one, so the handler it adds is kept.
    """
    closer, util = tracker._closer, sys.modules.get("multiprocessing.util")
    if closer is not None and closer.alive and util is not None:
        util.Finalize(tracker, closer, exitpriority=10)


class TrackerHistory:
    """Store, range queries, reprice and exports for ``TokenTracker``."""

    _ledger: Ledger
    _prices: TrackerPrices
    _store: UsageStore | None = None
    _writer: StoreWriter | None = None
    _closer: weakref.finalize[[StoreWriter, UsageStore | None], TrackerHistory] | None = None

    # -- opening and closing ----------------------------------------------------------

    def _open_store(self, spec: StoreSpec | None) -> None:
        """Open ``spec``, load its totals into the ledger and queue every call for it."""
        if spec is None:
            return
        store = open_store(spec)
        owned = store is not spec
        try:
            self._ledger.rebase(store.aggregates)
        except BaseException:
            if owned:
                store.close()
            raise
        writer = StoreWriter(store)
        self._store, self._writer = store, writer
        self._ledger.set_sink(writer.put)
        self._closer = weakref.finalize(self, _shut, writer, store if owned else None)
        after_fork_in_child(self._store_after_fork)

    def _store_after_fork(self) -> None:
        """In a forked child: if multiprocessing made it, write the queue when it exits."""
        util = sys.modules.get("multiprocessing.util")
        if util is not None and self._closer is not None and self._closer.alive:
            util.register_after_fork(self, _close_when_worker_exits)

    @property
    def store(self) -> UsageStore | None:
        """The usage store calls are written to, or ``None``."""
        return self._store

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every call so far is in the store; False if the store is failing."""
        writer = self._writer
        return True if writer is None else writer.flush(timeout)

    def close(self) -> None:
        """Write queued calls to the store and close it (a store object passed in stays open).

        Calls made afterwards are still counted in memory, not stored.
        Idempotent; also done when the tracker is garbage collected and at exit.
        """
        closer = self._closer
        if closer is not None:
            self._ledger.set_sink(None)
            closer()

    def __enter__(self: T) -> T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- queries -----------------------------------------------------------------------

    def usage_source(self) -> UsageSource:
        """This tracker's calls as a report source: the ledger for totals, the store for the rest.

        What ``tokenbudget.reports`` functions read when given a tracker.
        """
        writer = self._writer
        return TrackerSource(self._ledger, self._store, writer.flush if writer else None)

    def usage_between(
        self,
        start: Moment | None,
        end: Moment | None = None,
        *,
        provider: str | None = None,
        model: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> UsageSummary:
        """Totals of the calls made from ``start`` (inclusive) to ``end`` (exclusive, default now).

        Times are UTC (a naive datetime is read as UTC, a date as its midnight).
        ``provider``, ``model`` (the billed model) and ``tags`` must match exactly.
        """
        query = make_query(start, end, provider=provider, model=model, tags=tags)
        if query.unfiltered:  # "from the start": every call, not the ledger's shortcut
            query = make_query(datetime(1970, 1, 1, tzinfo=timezone.utc))
        return self.usage_source().summary(query)

    def usage_since(
        self,
        since: timedelta | Moment,
        *,
        provider: str | None = None,
        model: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> UsageSummary:
        """Totals of the calls of the last ``since`` (a ``timedelta``), or since a time."""
        query = make_query(since=since, provider=provider, model=model, tags=tags)
        return self.usage_source().summary(query)

    def history(
        self,
        start: Moment | None = None,
        end: Moment | None = None,
        *,
        provider: str | None = None,
        model: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> Iterator[CallRecord]:
        """The recorded calls in a range, oldest first: from the store, else from memory."""
        query = make_query(start, end, provider=provider, model=model, tags=tags)
        return self.usage_source().records(query)

    # -- reprice -----------------------------------------------------------------------

    def reprice(self, *, dry_run: bool = False, force: bool = False) -> RepriceResult:
        """Recompute stored costs with this tracker's current prices, at each call's time.

        Calls already priced with the current price data are skipped unless
        ``force``. ``dry_run`` reports without writing. Afterwards
        ``tracker.usage`` is reloaded from the store. Needs a store.
        """
        store, writer = self._store, self._writer
        if store is None or writer is None:
            raise RuntimeError("this tracker has no store: reprice needs TokenTracker(store=...)")
        if not writer.flush():
            raise StoreError(f"{store.url} is failing ({writer.last_error}); nothing repriced")

        def price(
            provider: str, model: str | None, usage: Usage, tier: str | None, at: datetime
        ) -> Decimal | None:
            return self._prices.cost(provider, model, usage, tier, False, at)

        result = store.reprice(
            price, price_version=self._prices.version(), dry_run=dry_run, force=force
        )
        if not dry_run:
            self._ledger.rebase(lambda: self._reload(store, writer))
        return result

    @staticmethod
    def _reload(store: UsageStore, writer: StoreWriter) -> UsageAggregates:
        if not writer.flush():
            raise StoreError(f"{store.url} is failing ({writer.last_error}); totals not reloaded")
        return store.aggregates()

    # -- exports -----------------------------------------------------------------------

    def export_csv(
        self,
        path: str | os.PathLike[str],
        *,
        start: Moment | None = None,
        end: Moment | None = None,
        provider: str | None = None,
        model: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> int:
        """One CSV row per call (see ``tokenbudget.reports``); returns the number of calls."""
        return export_csv(
            self, path, start=start, end=end, provider=provider, model=model, tags=tags
        )

    def export_json(
        self,
        path: str | os.PathLike[str],
        *,
        start: Moment | None = None,
        end: Moment | None = None,
        provider: str | None = None,
        model: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> int:
        """The calls, summary and breakdowns as JSON; returns the number of calls."""
        return export_json(
            self, path, start=start, end=end, provider=provider, model=model, tags=tags
        )
