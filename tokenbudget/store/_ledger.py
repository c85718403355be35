"""The ledger: every call recorded once, aggregated in constant memory.

A tracker records each call here first; a :class:`~._writer.StoreWriter` (the
ledger's sink) then queues it for a persistent store, if there is one.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timezone
from typing import Any

from .._core import after_fork_in_child, logger
from .._data import CallRecord, RunningTotals, UsageSummary
from ._base import UsageAggregates
from ._totals import totals_from_summary

__all__ = ["DEFAULT_MAX_RECORDS", "Ledger", "RecordCallback"]

RecordCallback = Callable[[CallRecord], None]

DEFAULT_MAX_RECORDS = 10_000


class Ledger:
    """Thread-safe running totals by provider, model and tag, plus recent records.

    Totals are exact over every call ever recorded; ``records`` keeps only the
    most recent ``max_records`` calls so memory does not grow with traffic.
    """

    def __init__(self, max_records: int | None = DEFAULT_MAX_RECORDS) -> None:
        self._lock = threading.Lock()
        self._max_records = max_records
        self._callbacks: list[RecordCallback] = []
        #: Runs with each record under the lock (a store's queue); see :meth:`set_sink`.
        self._sink: RecordCallback | None = None
        self._reset_state()
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        """In a forked child: a new lock (another thread may have held this one at the fork)."""
        self._lock = threading.Lock()

    def _reset_state(self) -> None:
        self._records: deque[CallRecord] = deque(maxlen=self._max_records)
        # One running total per (provider, model, UTC day, tags): a call updates one
        # entry, and the grand total and the per-provider, model, tag and day tables
        # are folded from these entries when read (there are few of them).
        self._cells: dict[_Cell, RunningTotals] = {}
        #: Totals loaded by :meth:`rebase` (a store's history), added to the cells on read.
        self._base: UsageAggregates | None = None

    def set_sink(self, sink: RecordCallback | None) -> None:
        """Hand each record to ``sink`` inside the lock that counts it.

        The sink must be quick and must not raise (a store writer's queue). Being
        under the lock, "counted here" and "queued for the store" happen together,
        so :meth:`rebase` can replace the totals with a store's without losing or
        doubling a call recorded meanwhile.
        """
        with self._lock:
            self._sink = sink

    def add_callback(self, callback: RecordCallback) -> None:
        """Call ``callback(record)`` after each record is stored."""
        self._callbacks.append(callback)

    def remove_callback(self, callback: RecordCallback) -> None:
        """Stop calling ``callback``."""
        self._callbacks.remove(callback)

    def record(self, record: CallRecord) -> None:
        """Store one call and update every aggregate, then run the callbacks."""
        tags = record.tags
        moment = record.timestamp
        cell = (
            record.provider,
            record.model or "unknown",
            moment.date() if moment.tzinfo is timezone.utc else _utc_date(moment),
            tuple(tags.items()) if tags else (),
        )
        with self._lock:
            self._records.append(record)
            totals = self._cells.get(cell)
            if totals is None:
                totals = self._cells[cell] = RunningTotals()
            totals.add(record)
            if self._sink is not None:
                try:
                    self._sink(record)
                except Exception:
                    logger.exception("tokenbudget: record sink %r failed", self._sink)
        for callback in list(self._callbacks) if self._callbacks else ():
            try:
                callback(record)
            except Exception:
                logger.exception("tokenbudget: on_record callback %r failed", callback)

    def reset(self) -> None:
        """Forget every record and total (callbacks stay)."""
        with self._lock:
            self._reset_state()

    @property
    def records(self) -> list[CallRecord]:
        """The most recent records, oldest first."""
        with self._lock:
            return list(self._records)

    def summary(self) -> UsageSummary:
        """Totals over every call recorded."""
        table = self._fold(lambda cell: ((),), lambda base: {(): base.total})
        return table.get((), UsageSummary())

    def by_provider(self) -> dict[str, UsageSummary]:
        """Totals per provider name."""
        return self._fold(lambda cell: (cell[0],), lambda base: base.by_provider)

    def by_model(self) -> dict[str, UsageSummary]:
        """Totals per billed model."""
        return self._fold(lambda cell: (cell[1],), lambda base: base.by_model)

    def by_tag(self, name: str | None = None) -> dict[str, UsageSummary]:
        """Totals per tag value of tag ``name``, or per ``name=value`` for all tags."""
        table = self._fold(lambda cell: cell[3], lambda base: base.by_tag)
        if name is None:
            return {f"{k}={v}": summary for (k, v), summary in table.items()}
        return {v: summary for (k, v), summary in table.items() if k == name}

    def by_day(self) -> dict[str, UsageSummary]:
        """Totals per UTC day (``YYYY-MM-DD``), oldest first."""
        table = self._fold(lambda cell: (cell[2].isoformat(),), lambda base: base.by_day)
        return dict(sorted(table.items()))

    def _fold(
        self,
        keys: Callable[[_Cell], Iterable[Any]],
        based: Callable[[UsageAggregates], Mapping[Any, UsageSummary]],
    ) -> dict[Any, UsageSummary]:
        """Sum the cells into one table, each cell under every key ``keys`` gives it,
        on top of the matching table ``based`` picks from a rebased history."""
        table: dict[Any, RunningTotals] = {}
        with self._lock:
            if self._base is not None:
                for key, summary in based(self._base).items():
                    table[key] = totals_from_summary(summary)
            for cell, totals in self._cells.items():
                for key in keys(cell):
                    found = table.get(key)
                    if found is None:
                        found = table[key] = RunningTotals()
                    found.merge(totals)
        return {key: totals.snapshot() for key, totals in table.items()}

    def rebase(self, load: Callable[[], UsageAggregates]) -> None:
        """Replace every total with ``load()``'s (a store's history); records stay.

        ``load`` runs under the lock, so no call is counted while it reads.
        """
        with self._lock:
            found = load()
            self._cells = {}
            self._base = found


_Cell = tuple[str, str, date, tuple[tuple[str, str], ...]]


def _utc_date(moment: datetime) -> date:
    """The UTC day of a record time (a naive time is taken as UTC)."""
    if moment.tzinfo is not None and moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    return moment.date()
