"""``RedisStore``: usage counters that every process and machine adds to, in Redis.

>>> tracker = TokenTracker(store="redis://redis.internal:6379/0")   # doctest: +SKIP
$ tokenbudget report redis://redis.internal:6379/0 --by model --since 7d

What is kept: integer counters per UTC day, per provider/model and per tag,
with the figures of a ``UsageSummary`` (the keys: ``_store_layout``). Each
batch of records is written by one Lua script, atomically and exactly once
(``_store_writes``); reads sum the days a query touches (``_store_reads``).

What counters cannot answer: a time range counts whole UTC days (a range that
starts or ends inside a day includes that whole day; a warning says so once);
a tag filter combines with grouping by day only, not with provider/model
filters or other groupings; and there are no call records, so CSV/JSON exports,
``history()`` and ``reprice`` raise :class:`RecordsUnavailable` (use a SQLite
store for those; a tracker can only have one store).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from .._core import after_fork_in_child
from .._data import CallRecord
from ..store import (
    DEFAULT_MAX_TAG_VALUES,
    Pricer,
    Query,
    RepriceResult,
    StoreError,
    UsageStore,
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
from ._lua import APPEND
from ._store_layout import usage_key
from ._store_reads import CounterReads
from ._store_writes import CounterWrites

__all__ = ["RecordsUnavailable", "RedisStore"]


class RecordsUnavailable(StoreError, NotImplementedError):
    """The Redis store keeps totals, not the individual calls an export or reprice needs."""


class RedisStore(CounterReads, CounterWrites, UsageStore):
    """Usage counters per UTC day, provider/model and tag, in Redis.

    Args:
        client: a ``redis.Redis`` client (or asyncio one: a sync twin is made). Or:
        url: ``redis://host:6379/0``; ``?prefix=NAME`` sets the key prefix.
        prefix: the first part of every key (``tokenbudget``).
        create: ``False`` (``tokenbudget report``) requires an existing store there.
        timeout: connect and read timeout of a client built from ``url``.
        max_tag_values: at most this many values per tag name get counters of
            their own, for every process writing to the store; later new values
            count as ``"(other)"`` (``None``: no limit).
    """

    def __init__(
        self,
        client: Any = None,
        *,
        url: str | None = None,
        prefix: str = "tokenbudget",
        create: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        max_tag_values: int | None = DEFAULT_MAX_TAG_VALUES,
    ) -> None:
        if (client is None) == (url is None):
            raise ValueError("give RedisStore a client or a url (one of them)")
        self._own = client is None
        self.client = connect(url, timeout) if url else sync_client(client)
        base = safe_url(url) if url else label(self.client)
        self.url = base if prefix == "tokenbudget" else f"{base}?prefix={prefix}"
        self.prefix = prefix
        self.max_tag_values = max_tag_values
        self._append = self.client.register_script(APPEND)
        self._lock = threading.Lock()
        self._tokens = {}
        self._warned_days = False
        if not create:
            self._check_exists()
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        """In a forked child: a new lock; the parent's failed batches are the parent's to retry."""
        self._lock = threading.Lock()
        self._tokens = {}

    @classmethod
    def from_url(cls, url: str, *, create: bool = True) -> RedisStore:
        """The store at ``url`` (``?prefix=NAME`` picks the key prefix)."""
        bare, prefix = split_prefix(url)
        return cls(url=bare, prefix=prefix, create=create)

    def __repr__(self) -> str:
        return f"<RedisStore {self.url}>"

    def _check_exists(self) -> None:
        meta = usage_key(self.prefix, "meta")
        try:
            found = self.client.exists(meta)
        except RedisError as exc:
            raise StoreError(f"{self.url}: cannot reach Redis ({exc})") from exc
        if not found:
            raise StoreError(
                f"{self.url}: no tokenbudget usage store there (no key {meta};"
                " check the database number and ?prefix=)"
            )

    # -- what counters cannot do -------------------------------------------------------

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
