"""The ledger: every call recorded once, aggregated in constant memory."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypeVar

from ._records import CallRecord
from ._summary import RunningTotals, UsageSummary

if TYPE_CHECKING:
    from .store import UsageAggregates

__all__ = ["Ledger", "RecordCallback"]

logger = logging.getLogger("tokenbudget")

RecordCallback = Callable[[CallRecord], None]
K = TypeVar("K")

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

    def _reset_state(self) -> None:
        self._records: deque[CallRecord] = deque(maxlen=self._max_records)
        self._total = RunningTotals()
        self._by_provider: dict[str, RunningTotals] = {}
        self._by_model: dict[str, RunningTotals] = {}
        self._by_tag: dict[tuple[str, str], RunningTotals] = {}
        self._by_day: dict[str, RunningTotals] = {}

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
        with self._lock:
            self._records.append(record)
            self._total.add(record)
            _totals_for(self._by_provider, record.provider).add(record)
            _totals_for(self._by_model, record.model or "unknown").add(record)
            for tag in record.tags.items():
                _totals_for(self._by_tag, tag).add(record)
            _totals_for(self._by_day, _utc_day(record.timestamp)).add(record)
            if self._sink is not None:
                try:
                    self._sink(record)
                except Exception:
                    logger.exception("tokenbudget: record sink %r failed", self._sink)
        for callback in list(self._callbacks):
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
        with self._lock:
            return self._total.snapshot()

    def by_provider(self) -> dict[str, UsageSummary]:
        """Totals per provider name."""
        with self._lock:
            return {key: totals.snapshot() for key, totals in self._by_provider.items()}

    def by_model(self) -> dict[str, UsageSummary]:
        """Totals per billed model."""
        with self._lock:
            return {key: totals.snapshot() for key, totals in self._by_model.items()}

    def by_tag(self, name: str | None = None) -> dict[str, UsageSummary]:
        """Totals per tag value of tag ``name``, or per ``name=value`` for all tags."""
        with self._lock:
            if name is None:
                return {f"{k}={v}": t.snapshot() for (k, v), t in self._by_tag.items()}
            return {v: t.snapshot() for (k, v), t in self._by_tag.items() if k == name}

    def by_day(self) -> dict[str, UsageSummary]:
        """Totals per UTC day (``YYYY-MM-DD``)."""
        with self._lock:
            return {key: totals.snapshot() for key, totals in self._by_day.items()}

    def rebase(self, load: Callable[[], UsageAggregates]) -> None:
        """Replace every total with ``load()``'s (a store's history); records stay.

        ``load`` runs under the lock, so no call is counted while it reads.
        """
        with self._lock:
            found = load()
            self._total = _running(found.total)
            self._by_provider = _running_table(found.by_provider)
            self._by_model = _running_table(found.by_model)
            self._by_tag = _running_table(found.by_tag)
            self._by_day = _running_table(found.by_day)


def _utc_day(moment: datetime) -> str:
    """The UTC day of a record time (a naive time is taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.date().isoformat()


def _running(summary: UsageSummary) -> RunningTotals:
    totals = RunningTotals()
    for name in RunningTotals.__slots__:
        setattr(totals, name, getattr(summary, name))
    return totals


def _running_table(table: Mapping[K, UsageSummary]) -> dict[K, RunningTotals]:
    return {key: _running(summary) for key, summary in table.items()}


def _totals_for(table: dict[K, RunningTotals], key: K) -> RunningTotals:
    totals = table.get(key)
    if totals is None:
        totals = table[key] = RunningTotals()
    return totals
