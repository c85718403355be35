"""Reading the usage counters: the days a query touches, summed as it asks.

A query reads every day its range touches (one ``ZRANGEBYSCORE`` for the day
names, then one pipelined ``HGETALL`` per day) and adds the counters up in the
process. The counters answer whole UTC days only, and per provider/model or
per tag, never both: what they cannot answer raises :class:`StoreError` saying
so. ``RedisStore`` inherits these methods.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, cast

from .._data import UsageSummary
from ..store import Query, StoreError, UsageAggregates, add_summaries, check_grouping
from ._client import RedisError
from ._figures import add, summary
from ._store_layout import Day, usage_key

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["CounterReads"]

logger = logging.getLogger("tokenbudget")


class CounterReads:
    """Totals, breakdowns and aggregates of ``RedisStore``."""

    client: Redis
    url: str
    prefix: str
    #: True once the widening of a range to whole days was logged.
    _warned_days: bool

    def summary(self, query: Query | None = None) -> UsageSummary:
        """Totals over the calls ``query`` keeps."""
        query = query or Query()
        total = UsageSummary()
        for counters in self._select(query).values():
            total = add_summaries(total, summary(counters))
        return total

    def breakdown(self, by: str, query: Query | None = None) -> dict[str, UsageSummary]:
        """Totals per ``provider``, ``model``, ``day``, ``tag`` or ``tag:NAME``."""
        check_grouping(by)
        query = query or Query()
        if by.startswith("tag"):
            if query.provider or query.model or query.tags:
                raise _cannot(self.url, f"group by {by} with provider, model or tag filters")
            rows: dict[str, dict[str, int]] = {}
            for day in self._days(query).values():
                for (name, value), counters in day.tags.items():
                    if by == "tag":
                        add(rows.setdefault(f"{name}={value}", {}), counters)
                    elif name == by[4:]:
                        add(rows.setdefault(value, {}), counters)
            return {key: summary(counters) for key, counters in sorted(rows.items())}
        if by != "day" and query.tags:
            raise _cannot(self.url, f"group by {by} with a tag filter (only by day)")
        rows = {}
        position = ("day", "provider", "model").index(by)
        for key, counters in self._select(query).items():
            add(rows.setdefault(key[position], {}), counters)
        return {key: summary(counters) for key, counters in sorted(rows.items())}

    def aggregates(self) -> UsageAggregates:
        """Every total a ledger keeps, from one read of every day."""
        tables: tuple[dict[Any, dict[str, int]], ...] = ({}, {}, {}, {})
        everything: dict[str, int] = {}
        for day_name, day in self._days(Query()).items():
            for (provider, model), counters in day.models.items():
                add(everything, counters)
                for table, key in zip(tables, (provider, model, day_name), strict=False):
                    add(table.setdefault(key, {}), counters)
            for tag, counters in day.tags.items():
                add(tables[3].setdefault(tag, {}), counters)
        by_provider, by_model, by_day, by_tag = (
            {key: summary(counters) for key, counters in table.items()} for table in tables
        )
        return UsageAggregates(
            total=summary(everything),
            by_provider=by_provider,
            by_model=by_model,
            by_tag=by_tag,
            by_day=by_day,
        )

    def _days(self, query: Query) -> dict[str, Day]:
        """The counters of every day the query's range touches (whole UTC days)."""
        low = "-inf" if query.start is None else query.start.date().toordinal()
        high = (
            "+inf" if query.end is None else (query.end - timedelta.resolution).date().toordinal()
        )
        if not self._warned_days and not (_midnight(query.start) and _midnight(query.end)):
            self._warned_days = True
            logger.warning(
                "tokenbudget: %s counts whole UTC days; the range was widened to whole days",
                self.url,
            )
        try:
            days_key = usage_key(self.prefix, "days")
            names = cast("list[bytes]", self.client.zrangebyscore(days_key, low, high))
            pipe = self.client.pipeline(transaction=False)
            for name in names:
                pipe.hgetall(usage_key(self.prefix, "day", name.decode()))
            hashes: list[dict[bytes, bytes]] = pipe.execute() if names else []
        except RedisError as exc:
            raise StoreError(f"{self.url}: reading totals failed: {exc}") from exc
        return {name.decode(): Day(fields) for name, fields in zip(names, hashes, strict=True)}

    def _select(self, query: Query) -> dict[tuple[str, str, str], dict[str, int]]:
        """Counters kept by ``query``, per (day, provider, model); a tag filter: per day."""
        found: dict[tuple[str, str, str], dict[str, int]] = {}
        if query.tags:
            if len(query.tags) > 1 or query.provider or query.model:
                raise _cannot(self.url, "filter on several tags, or on tags and provider/model")
            ((name, value),) = query.tags.items()
            for day_name, day in self._days(query).items():
                if (name, value) in day.tags:
                    found[(day_name, "", "")] = day.tags[(name, value)]
            return found
        for day_name, day in self._days(query).items():
            for (provider, model), counters in day.models.items():
                if query.provider not in (None, provider) or query.model not in (None, model):
                    continue
                found[(day_name, provider, model)] = counters
        return found


def _midnight(moment: datetime | None) -> bool:
    return moment is None or moment.astimezone(timezone.utc).time() == datetime.min.time()


def _cannot(url: str, what: str) -> StoreError:
    return StoreError(
        f"{url} keeps counters per day and provider/model, and per day and tag: it cannot {what}"
    )
