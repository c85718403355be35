"""``RedisStore``: usage counters that every process and machine adds to, in Redis.

>>> tracker = TokenTracker(store="redis://redis.internal:6379/0")   # doctest: +SKIP
$ tokenbudget report redis://redis.internal:6379/0 --by model --since 7d

What is kept (``<prefix>`` is ``tokenbudget``, or ``?prefix=NAME`` in the URL)::

    <prefix>:usage:day:<YYYY-MM-DD>   hash, one per UTC day, integer fields
        m<US><provider><US><model><US><figure>   per provider and billed model
        t<US><tag name><US><tag value><US><figure>   per tag
    <prefix>:usage:days               zset of the days used (score: day number)
    <prefix>:usage:meta               hash: schema version
    <prefix>:usage:batch:<token>      marker of a written batch (expires after a day)

``<US>`` is the ASCII unit separator (0x1f; one inside a name becomes U+FFFD).
Figures are those of a ``UsageSummary``; money is exact (see ``_money``). A
day's totals are the sum of its provider/model fields. Each batch of records
(the store writer sends up to 500) is aggregated in the process and written by
one Lua script with ``HINCRBY``: one round trip, atomic, and exactly once, since a batch
retried after a lost reply carries the same token and the script skips a token
it has seen.

What counters cannot answer: a time range counts whole UTC days (a range that
starts or ends inside a day includes that whole day; a warning says so once);
a tag filter combines with grouping by day only, not with provider/model
filters or other groupings; and there are no call records, so CSV/JSON exports,
``history()`` and ``reprice`` raise :class:`RecordsUnavailable` (use a SQLite
store for those; a tracker can only have one store).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any, cast

from .._data import CallRecord, UsageSummary
from ..store import (
    Pricer,
    Query,
    RepriceResult,
    StoreError,
    UsageAggregates,
    UsageStore,
    add_summaries,
    check_grouping,
    utc_day,
)
from ._client import (
    DEFAULT_TIMEOUT,
    RedisError,
    connect,
    label,
    safe_url,
    split_prefix,
    sync_client,
)
from ._figures import add, figures, summary
from ._lua import APPEND

__all__ = ["RecordsUnavailable", "RedisStore"]

logger = logging.getLogger("tokenbudget")

SEP = "\x1f"
_MARKER_TTL = 86_400
_MAX_TOKENS = 200_000  # twice the store writer's queue
_Counters = dict[tuple[str, str], dict[str, int]]


class RecordsUnavailable(StoreError, NotImplementedError):
    """The Redis store keeps totals, not the individual calls an export or reprice needs."""


class _Day:
    """One day's counters: per (provider, model) and per (tag name, value)."""

    def __init__(self, fields: Mapping[bytes, bytes]) -> None:
        self.models: _Counters = {}
        self.tags: _Counters = {}
        for raw, value in fields.items():
            kind, first, second, figure = raw.decode().split(SEP)
            table = self.models if kind == "m" else self.tags
            table.setdefault((first, second), {})[figure] = int(value)


class RedisStore(UsageStore):
    """Usage counters per UTC day, provider/model and tag, in Redis.

    Args:
        client: a ``redis.Redis`` client (or asyncio one: a sync twin is made). Or:
        url: ``redis://host:6379/0``; ``?prefix=NAME`` sets the key prefix.
        prefix: the first part of every key (``tokenbudget``).
        create: ``False`` (``tokenbudget report``) requires an existing store there.
        timeout: connect and read timeout of a client built from ``url``.
    """

    def __init__(
        self,
        client: Any = None,
        *,
        url: str | None = None,
        prefix: str = "tokenbudget",
        create: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if (client is None) == (url is None):
            raise ValueError("give RedisStore a client or a url (one of them)")
        self._own = client is None
        self.client = connect(url, timeout) if url else sync_client(client)
        base = safe_url(url) if url else label(self.client)
        self.url = base if prefix == "tokenbudget" else f"{base}?prefix={prefix}"
        self.prefix = prefix
        self._append = self.client.register_script(APPEND)
        self._lock = threading.Lock()
        #: Tokens of records whose write failed: a retry reuses them (written exactly once).
        self._tokens: dict[int, tuple[str, CallRecord]] = {}
        self._warned_days = False
        if not create:
            self._check_exists()

    @classmethod
    def from_url(cls, url: str, *, create: bool = True) -> RedisStore:
        """The store at ``url`` (``?prefix=NAME`` picks the key prefix)."""
        bare, prefix = split_prefix(url)
        return cls(url=bare, prefix=prefix, create=create)

    def __repr__(self) -> str:
        return f"<RedisStore {self.url}>"

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, "usage", *parts))

    def _check_exists(self) -> None:
        try:
            found = self.client.exists(self._key("meta"))
        except RedisError as exc:
            raise StoreError(f"{self.url}: cannot reach Redis ({exc})") from exc
        if not found:
            raise StoreError(
                f"{self.url}: no tokenbudget usage store there (no key {self._key('meta')};"
                " check the database number and ?prefix=)"
            )

    # -- writing -------------------------------------------------------------------------

    def append(self, records: Sequence[CallRecord]) -> None:
        """Add ``records`` to the counters: one script per batch, all or none, exactly once."""
        if not records:
            return
        with self._lock:
            fresh = secrets.token_hex(8)
            tokens = [self._tokens.get(id(r), (fresh, r))[0] for r in records]
        groups: dict[str, list[CallRecord]] = {}
        for token, record in zip(tokens, records, strict=True):
            groups.setdefault(token, []).append(record)
        try:
            for token, group in groups.items():  # one group, or two after a failed write
                keys, args = self._batch(token, group)
                self._append(keys=keys, args=args)
        except RedisError as exc:
            with self._lock:
                for token, record in zip(tokens, records, strict=True):
                    self._tokens[id(record)] = (token, record)
                for stale in list(self._tokens)[: max(len(self._tokens) - _MAX_TOKENS, 0)]:
                    del self._tokens[stale]  # records the writer dropped while Redis was away
            raise StoreError(f"{self.url}: writing {len(records)} calls failed: {exc}") from exc
        with self._lock:
            for record in records:
                self._tokens.pop(id(record), None)

    def _batch(self, token: str, records: Sequence[CallRecord]) -> tuple[list[str], list[Any]]:
        days: dict[str, dict[str, int]] = {}
        for record in records:
            counters = days.setdefault(utc_day(record.timestamp), {})
            figs = figures(record)
            groups = [("m", record.provider, record.model or "unknown")]
            groups += [("t", name, value) for name, value in record.tags.items()]
            for group in groups:
                prefix = "".join(part.replace(SEP, "\ufffd") + SEP for part in group)
                add(counters, {prefix + name: value for name, value in figs.items()})
        keys = [self._key("batch", token), self._key("days"), self._key("meta")]
        args: list[Any] = [_MARKER_TTL]
        for day, counters in days.items():
            keys.append(self._key("day", day))
            args += [day, date.fromisoformat(day).toordinal(), len(counters)]
            for name, value in counters.items():
                args += [name, value]
        return keys, args

    # -- reading -------------------------------------------------------------------------

    def _days(self, query: Query) -> dict[str, _Day]:
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
            names = cast("list[bytes]", self.client.zrangebyscore(self._key("days"), low, high))
            pipe = self.client.pipeline(transaction=False)
            for name in names:
                pipe.hgetall(self._key("day", name.decode()))
            hashes: list[dict[bytes, bytes]] = pipe.execute() if names else []
        except RedisError as exc:
            raise StoreError(f"{self.url}: reading totals failed: {exc}") from exc
        return {name.decode(): _Day(fields) for name, fields in zip(names, hashes, strict=True)}

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

    def records(self, query: Query | None = None) -> Iterator[CallRecord]:
        """Not kept: raises :class:`RecordsUnavailable`."""
        raise RecordsUnavailable(
            f"{self.url} keeps totals per day, provider/model and tag, not individual calls:"
            " CSV and JSON exports and history() need a SQLite store (store='usage.db');"
            " tables and HTML reports work here"
        )

    def reprice(
        self,
        price: Pricer,
        *,
        price_version: str | None,
        dry_run: bool = False,
        force: bool = False,
    ) -> RepriceResult:
        """Not possible on totals: raises :class:`RecordsUnavailable`."""
        raise RecordsUnavailable(
            f"{self.url} keeps totals, not the calls' token counts by price: it cannot be"
            " repriced (a SQLite store can)"
        )

    def close(self) -> None:
        """Close the connections of a client this store made; idempotent."""
        if self._own:
            self.client.close()


def _midnight(moment: datetime | None) -> bool:
    return moment is None or moment.astimezone(timezone.utc).time() == datetime.min.time()


def _cannot(url: str, what: str) -> StoreError:
    return StoreError(
        f"{url} keeps counters per day and provider/model, and per day and tag: it cannot {what}"
    )
