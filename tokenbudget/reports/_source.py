"""Where a report's numbers come from: a tracker, a store, or a list of records.

Every report asks a :class:`UsageSource` three things: the totals over a
:class:`~tokenbudget.store.Query`, the totals per group, and the calls one by
one. A tracker answers unfiltered totals from its in-memory ledger (exactly
``tracker.usage``, history loaded from its store included); filtered totals
and calls come from its store when it has one (after writing what is queued),
else from the recent records it keeps in memory, with a warning when older
calls have already left that window.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone

from .._data import CallRecord, UsageSummary
from ..store import Ledger, Query, UsageStore, check_grouping, group_records, summarize, to_utc

__all__ = [
    "RecordsSource",
    "StoreSource",
    "TrackerSource",
    "UsageSource",
    "as_source",
    "make_query",
]

logger = logging.getLogger("tokenbudget")


class UsageSource(ABC):
    """Answers a report's questions; ``label`` names it in exports."""

    label: str = "records"

    @abstractmethod
    def summary(self, query: Query) -> UsageSummary:
        """Totals over the calls ``query`` keeps."""

    @abstractmethod
    def breakdown(self, by: str, query: Query) -> dict[str, UsageSummary]:
        """Totals per group (see :meth:`UsageStore.breakdown`)."""

    @abstractmethod
    def records(self, query: Query) -> Iterator[CallRecord]:
        """The calls ``query`` keeps, oldest first."""


class RecordsSource(UsageSource):
    """Records held in memory (an export read back, a test's list)."""

    def __init__(self, records: Iterable[CallRecord], label: str = "records") -> None:
        self._records: Sequence[CallRecord] = list(records)
        self.label = label

    def _kept(self, query: Query) -> Iterator[CallRecord]:
        if query.unfiltered:
            return iter(self._records)
        return (record for record in self._records if query.matches(record))

    def summary(self, query: Query) -> UsageSummary:
        return summarize(self._kept(query))

    def breakdown(self, by: str, query: Query) -> dict[str, UsageSummary]:
        return group_records(self._kept(query), by)

    def records(self, query: Query) -> Iterator[CallRecord]:
        return iter(sorted(self._kept(query), key=lambda record: record.timestamp))


class StoreSource(UsageSource):
    """A usage store, queried directly."""

    def __init__(self, store: UsageStore) -> None:
        self.store = store
        self.label = store.url

    def summary(self, query: Query) -> UsageSummary:
        return self.store.summary(query)

    def breakdown(self, by: str, query: Query) -> dict[str, UsageSummary]:
        return self.store.breakdown(by, query)

    def records(self, query: Query) -> Iterator[CallRecord]:
        return self.store.records(query)


class TrackerSource(UsageSource):
    """A tracker: its ledger for unfiltered totals, its store (or memory) for the rest."""

    def __init__(
        self,
        ledger: Ledger,
        store: UsageStore | None = None,
        flush: Callable[[], bool] | None = None,
    ) -> None:
        self._ledger = ledger
        self._store = store
        self._flush = flush
        self.label = store.url if store is not None else "memory"

    def summary(self, query: Query) -> UsageSummary:
        if query.unfiltered:
            return self._ledger.summary()
        return self._detail().summary(query)

    def breakdown(self, by: str, query: Query) -> dict[str, UsageSummary]:
        check_grouping(by)
        if not query.unfiltered:
            return self._detail().breakdown(by, query)
        if by == "provider":
            return self._ledger.by_provider()
        if by == "model":
            return self._ledger.by_model()
        if by == "day":
            return self._ledger.by_day()
        return self._ledger.by_tag(None if by == "tag" else by[4:])

    def records(self, query: Query) -> Iterator[CallRecord]:
        return self._detail().records(query)

    def _detail(self) -> UsageSource:
        if self._store is not None:
            if self._flush is not None and not self._flush():
                logger.warning(
                    "tokenbudget: %s is behind (writes failing); the newest calls are missing",
                    self._store.url,
                )
            return StoreSource(self._store)
        records = self._ledger.records
        counted = self._ledger.summary().calls
        if counted > len(records):
            logger.warning(
                "tokenbudget: only the latest %d of %d calls are kept in memory"
                " (max_records); give the tracker a store=... for complete history",
                len(records),
                counted,
            )
        return RecordsSource(records, "memory")


def as_source(source: object) -> UsageSource:
    """A :class:`UsageSource` for a tracker, a store, a source, or an iterable of records."""
    if isinstance(source, UsageSource):
        return source
    make = getattr(source, "usage_source", None)
    if callable(make):
        found = make()
        if isinstance(found, UsageSource):
            return found
    if isinstance(source, UsageStore):
        return StoreSource(source)
    if isinstance(source, Iterable) and not isinstance(source, (str, bytes, Mapping)):
        records = list(source)
        if all(isinstance(record, CallRecord) for record in records):
            return RecordsSource(records)
    raise TypeError(
        f"expected a TokenTracker, a UsageStore or call records, not {type(source).__name__}"
    )


def make_query(
    start: datetime | date | None = None,
    end: datetime | date | None = None,
    *,
    since: timedelta | datetime | date | None = None,
    provider: str | None = None,
    model: str | None = None,
    tags: Mapping[str, object] | None = None,
    now: datetime | None = None,
) -> Query:
    """A :class:`Query` from report arguments; ``since`` is a duration back from now or a time."""
    if since is not None:
        if start is not None:
            raise ValueError("give start or since, not both")
        if isinstance(since, timedelta):
            start = (now or datetime.now(timezone.utc)) - since
        else:
            start = since
    if start is not None and end is not None and to_utc(end) <= to_utc(start):
        raise ValueError("the end of the range must come after its start")
    return Query.build(start, end, provider=provider, model=model, tags=tags)
