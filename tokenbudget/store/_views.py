"""The ledger's summary views: totals per provider, model, day and tag, kept as calls arrive.

A ledger counts each call in one running total per combination of provider,
model, UTC day and tags (a *cell*: one addition on the call's path). Reading a
view by summing every cell would cost as much as there are combinations (a
thousand models times ten tag values: ten thousand cells per read), so the
views keep their own totals: the cells counted since the last read are added
to them when a view is next read, and each view remembers its summaries until a
key of it changes. A read costs what changed since the last one, and nothing
more when nothing did; a call costs no more than its one cell.

Not thread-safe by itself: the ledger holds its lock around every method.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from datetime import date
from typing import Generic, TypeVar

from .._data import RunningTotals, UsageSummary
from ._base import UsageAggregates
from ._totals import totals_from_summary

__all__ = ["Cell", "SummaryTable", "SummaryViews"]

#: A ledger's aggregation key: provider, billed model, UTC day and (folded) tags.
Cell = tuple[str, str, date, tuple[tuple[str, str], ...]]

K = TypeVar("K", bound=Hashable)

_EMPTY = UsageSummary()


class SummaryTable(Generic[K]):
    """Running totals per key, with each key's summary kept until the key changes.

    Keys keep the order they first appeared in (a loaded history's first).
    """

    __slots__ = ("_stale", "_summaries", "_totals")

    def __init__(self, base: Mapping[K, UsageSummary] | None = None) -> None:
        self._totals: dict[K, RunningTotals] = {}
        self._summaries: dict[K, UsageSummary] = {}
        #: Keys whose summary is out of date (refreshed by the next read).
        self._stale: set[K] = set()
        for key, summary in (base or {}).items():
            self._totals[key] = totals_from_summary(summary)
            self._summaries[key] = summary

    def add(self, key: K, totals: RunningTotals) -> None:
        """Add ``totals`` to the key's running totals."""
        found = self._totals.get(key)
        if found is None:
            found = self._totals[key] = RunningTotals()
            self._summaries[key] = _EMPTY  # holds the key's place; refreshed on read
        found.merge(totals)
        self._stale.add(key)

    def __contains__(self, key: object) -> bool:
        return key in self._totals

    def _refresh(self) -> None:
        if self._stale:
            totals, summaries = self._totals, self._summaries
            for key in self._stale:
                summaries[key] = totals[key].snapshot()
            self._stale.clear()

    def get(self, key: K) -> UsageSummary | None:
        """The summary of ``key``, or ``None`` if nothing was counted under it."""
        if key in self._stale:
            self._summaries[key] = self._totals[key].snapshot()
            self._stale.discard(key)
        return self._summaries.get(key)

    def read(self) -> dict[K, UsageSummary]:
        """Every key's summary (a new dict: the caller may change it)."""
        self._refresh()
        return dict(self._summaries)

    def pick(self, keys: Iterable[K]) -> list[tuple[K, UsageSummary]]:
        """The summaries of ``keys`` (each counted under), in that order."""
        self._refresh()
        summaries = self._summaries
        return [(key, summaries[key]) for key in keys]


class SummaryViews:
    """The grand total and the tables per provider, model, day and tag of one ledger."""

    __slots__ = ("by_day", "by_model", "by_provider", "by_tag", "tag_keys", "total")

    def __init__(self, base: UsageAggregates | None = None) -> None:
        #: The grand total, under the key ``()``.
        self.total: SummaryTable[tuple[()]] = SummaryTable({(): base.total} if base else None)
        self.by_provider = SummaryTable(base.by_provider if base else None)
        self.by_model = SummaryTable(base.by_model if base else None)
        #: Per UTC day, keyed ``YYYY-MM-DD``.
        self.by_day = SummaryTable(base.by_day if base else None)
        #: Per ``(tag name, value)``.
        self.by_tag = SummaryTable(base.by_tag if base else None)
        #: The keys of ``by_tag`` per tag name, in order, so one tag's table reads alone.
        self.tag_keys: dict[str, list[tuple[str, str]]] = {}
        for key in base.by_tag if base else ():
            self.tag_keys.setdefault(key[0], []).append(key)

    def add(self, cells: Iterable[tuple[Cell, RunningTotals]]) -> None:
        """Add the totals of ``cells`` (counted since the last call) to every view."""
        by_tag, tag_keys = self.by_tag, self.tag_keys
        for (provider, model, day, tags), totals in cells:
            self.total.add((), totals)
            self.by_provider.add(provider, totals)
            self.by_model.add(model, totals)
            self.by_day.add(day.isoformat(), totals)
            for key in tags:
                if key not in by_tag:
                    tag_keys.setdefault(key[0], []).append(key)
                by_tag.add(key, totals)

    def summary(self) -> UsageSummary:
        """The grand total."""
        return self.total.get(()) or _EMPTY

    def tag(self, name: str) -> dict[str, UsageSummary]:
        """The summaries per value of tag ``name``."""
        keys = self.tag_keys.get(name, ())
        return {value: summary for (_, value), summary in self.by_tag.pick(keys)}
