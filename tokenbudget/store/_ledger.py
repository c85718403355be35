"""The ledger: every call recorded once, aggregated in constant memory.

A tracker records each call here first; a :class:`~._writer.StoreWriter` (the
ledger's sink) then queues it for a persistent store, if there is one.

Tags with many values: the totals are kept per combination of provider, model,
UTC day and tags, so a tag with a new value on every call (a request id) would
add a running total per call. A ledger therefore counts at most
``max_tag_values`` distinct values per tag name (:data:`DEFAULT_MAX_TAG_VALUES`);
later new values are counted under :data:`OTHER_TAG_VALUE`, with a warning
once per tag name. Totals stay exact; only the per-value breakdown of that tag
is folded. The records (and a store) keep the real tags.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from .._core import logger, renew_after_fork
from .._data import CallRecord, RunningTotals, UsageSummary
from ._base import UsageAggregates
from ._totals import add_summaries
from ._views import Cell, SummaryViews

__all__ = [
    "DEFAULT_MAX_RECORDS",
    "DEFAULT_MAX_TAG_VALUES",
    "OTHER_TAG_VALUE",
    "Ledger",
    "RecordCallback",
]

RecordCallback = Callable[[CallRecord], None]

DEFAULT_MAX_RECORDS = 10_000
#: Distinct values per tag name a ledger keeps totals for; more fold into :data:`OTHER_TAG_VALUE`.
DEFAULT_MAX_TAG_VALUES = 1_000
#: The tag value the values past a ledger's ``max_tag_values`` are counted under.
OTHER_TAG_VALUE = "(other)"

_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Ledger:
    """Thread-safe running totals by provider, model and tag, plus recent records.

    Totals are exact over every call ever recorded; ``records`` keeps only the
    most recent ``max_records`` calls so memory does not grow with traffic, and
    at most ``max_tag_values`` values per tag name are told apart (``None``: all;
    see the module docstring).
    """

    def __init__(
        self,
        max_records: int | None = DEFAULT_MAX_RECORDS,
        max_tag_values: int | None = DEFAULT_MAX_TAG_VALUES,
    ) -> None:
        if max_tag_values is not None and max_tag_values < 1:
            raise ValueError(f"max_tag_values must be at least 1 or None, not {max_tag_values}")
        self._lock = threading.Lock()
        self._max_records = max_records
        self.max_tag_values = max_tag_values
        #: Tag names whose values were folded (each warned about once).
        self._folded: set[str] = set()
        self._callbacks: list[RecordCallback] = []
        #: Runs with each record under the lock (a store's queue); see :meth:`set_sink`.
        self._sink: RecordCallback | None = None
        #: The start, end and date of the latest UTC day a record fell on (:meth:`_day_of`).
        self._today: tuple[datetime, datetime, date] = (_EPOCH, _EPOCH, date.min)
        self._reset_state()
        renew_after_fork(self, "_lock", threading.Lock)

    def _reset_state(self) -> None:
        self._records: deque[CallRecord] = deque(maxlen=self._max_records)
        #: The tag values told apart, per tag name (at most ``max_tag_values`` each).
        self._tag_values: dict[str, set[str]] = {}
        self._reset_totals(None)

    def _reset_totals(self, base: UsageAggregates | None) -> None:
        # One running total per (provider, model, UTC day, tags): a call adds to one
        # cell. Each cell holds what was counted since the views last read it; the
        # cells that hold something wait in ``_counted`` until the next read adds
        # them to the views (see ._views), so no read sums every cell.
        self._cells: dict[Cell, RunningTotals] = {}
        self._counted: list[tuple[Cell, RunningTotals]] = []
        #: The totals per provider, model, day and tag, from ``base`` (a store's history) on.
        self._views = SummaryViews(base)

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
        provider, model = record.provider, record.model or "unknown"
        # The UTC day, without a new date per call while the day lasts.
        start, end, day = self._today
        if not (moment.tzinfo is timezone.utc and start <= moment < end):
            day = self._day_of(moment)
        lock = self._lock
        lock.acquire()  # not ``with``: it builds two bound methods per call
        try:
            cell = (provider, model, day, self._fold_tags(tags) if tags else ())
            self._records.append(record)
            totals = self._cells.get(cell)
            if totals is None:
                totals = self._cells[cell] = RunningTotals()
            if not totals.calls:  # first call since the views read this cell
                self._counted.append((cell, totals))
            totals.add(record)
            if self._sink is not None:
                try:
                    self._sink(record)
                except Exception:
                    logger.exception("tokenbudget: record sink %r failed", self._sink)
        finally:
            lock.release()
        if self._callbacks:
            for callback in list(self._callbacks):
                try:
                    callback(record)
                except Exception:
                    logger.exception("tokenbudget: on_record callback %r failed", callback)

    def _day_of(self, moment: datetime) -> date:
        """The UTC day of ``moment``, kept with its bounds when it is the latest day seen."""
        day = _utc_date(moment)
        if moment.tzinfo is timezone.utc and day >= self._today[2]:
            start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            self._today = (start, start + _ONE_DAY, day)  # one store: read whole by any thread
        return day

    def _fold_tags(self, tags: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """``tags`` as a cell key, values past the cap folded (under the lock)."""
        cap = self.max_tag_values
        if cap is None:
            return tuple(tags.items())
        folded = []
        for name, value in tags.items():
            seen = self._tag_values.get(name)
            if seen is None:
                seen = self._tag_values[name] = set()
            if value not in seen:
                if len(seen) < cap:
                    seen.add(value)
                else:
                    value = OTHER_TAG_VALUE
                    self._warn_folded(name)
            folded.append((name, value))
        return tuple(folded)

    def _warn_folded(self, name: str) -> None:
        if name not in self._folded:
            self._folded.add(name)
            logger.warning(
                "tokenbudget: tag %r has more than %d values; totals per value count the"
                ' later ones as "%s" (records and stores keep the real values;'
                " TokenTracker(max_tag_values=...) changes the limit)",
                name,
                self.max_tag_values,
                OTHER_TAG_VALUE,
            )

    @property
    def cell_count(self) -> int:
        """How many running totals the ledger keeps (its memory grows with this, not with calls)."""
        with self._lock:
            return len(self._cells)

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
            self._update_views()
            return self._views.summary()

    def by_provider(self) -> dict[str, UsageSummary]:
        """Totals per provider name."""
        with self._lock:
            self._update_views()
            return self._views.by_provider.read()

    def by_model(self) -> dict[str, UsageSummary]:
        """Totals per billed model."""
        with self._lock:
            self._update_views()
            return self._views.by_model.read()

    def by_tag(self, name: str | None = None) -> dict[str, UsageSummary]:
        """Totals per tag value of tag ``name``, or per ``name=value`` for all tags."""
        with self._lock:
            self._update_views()
            if name is not None:
                return self._views.tag(name)
            table = self._views.by_tag.read()
        return {f"{k}={v}": summary for (k, v), summary in table.items()}

    def by_day(self) -> dict[str, UsageSummary]:
        """Totals per UTC day (``YYYY-MM-DD``), oldest first."""
        with self._lock:
            self._update_views()
            table = self._views.by_day.read()
        return dict(sorted(table.items()))

    def _update_views(self) -> None:
        """Add the cells counted since the last read to the views; empty them (under the lock)."""
        counted = self._counted
        if counted:
            self._views.add(counted)
            for _cell, totals in counted:
                totals.clear()
            self._counted = []

    def rebase(self, load: Callable[[], UsageAggregates]) -> None:
        """Replace every total with ``load()``'s (a store's history); records stay.

        ``load`` runs under the lock, so no call is counted while it reads.
        """
        with self._lock:
            found = load()
            self._tag_values = {}
            self._reset_totals(self._fold_base(found))

    def _fold_base(self, found: UsageAggregates) -> UsageAggregates:
        """``found`` with the busiest ``max_tag_values`` values per tag, the rest folded."""
        cap = self.max_tag_values
        if cap is None or not found.by_tag:
            return found
        by_name: dict[str, list[tuple[str, UsageSummary]]] = {}
        for (name, value), summary in found.by_tag.items():
            by_name.setdefault(name, []).append((value, summary))
        by_tag: dict[tuple[str, str], UsageSummary] = {}
        for name, values in by_name.items():
            values.sort(key=lambda item: (item[0] == OTHER_TAG_VALUE, -item[1].calls))
            for value, summary in values[:cap]:
                by_tag[(name, value)] = summary
            for _value, summary in values[cap:]:
                other = by_tag.get((name, OTHER_TAG_VALUE), UsageSummary())
                by_tag[(name, OTHER_TAG_VALUE)] = add_summaries(other, summary)
            self._tag_values[name] = {value for value, _ in values[:cap]}
        return replace(found, by_tag=by_tag)


def _utc_date(moment: datetime) -> date:
    """The UTC day of a record time (a naive time is taken as UTC)."""
    if moment.tzinfo is not None and moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    return moment.date()
