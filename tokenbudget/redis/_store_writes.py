"""Writing the usage counters: one Lua script per batch of records, applied exactly once.

Each batch of records (the store writer sends up to 500) is aggregated in the
process into increments per day and field (see ``_store_layout``) and written
by one Lua script (``_lua.APPEND``) with ``HINCRBY``: one round trip, atomic,
and exactly once, since a batch retried after a lost reply carries the same
token and the script skips a token it has seen. ``RedisStore`` inherits these
methods.

Figures Redis cannot count (see ``_figures.MAX_FIGURE``) are refused before
anything is sent (``ValueError``), and the script checks every increment
before it writes one: a refused batch changes nothing, and the store writer
sets the record at fault aside (``StoreError.transient`` is False).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from .._data import CallRecord
from ..store import StoreError, utc_day
from ._client import RedisError, refused
from ._figures import add, figures
from ._store_layout import field_prefix, usage_key

if TYPE_CHECKING:
    from redis.commands.core import Script

__all__ = ["CounterWrites"]

_MARKER_TTL = 86_400
_MAX_TOKENS = 200_000  # twice the store writer's queue


class CounterWrites:
    """Appending records to the counters of ``RedisStore``."""

    url: str
    prefix: str
    #: Most values per tag name told apart (``None``: all); see ``_lua.APPEND``.
    max_tag_values: int | None
    #: The ``_lua.APPEND`` script, registered with the store's client.
    _append: Script
    _lock: threading.Lock
    #: Tokens of records whose write failed: a retry reuses them (written exactly once).
    _tokens: dict[int, tuple[str, CallRecord]]

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
        # Every figure is checked (raising) before the first script is sent.
        scripts = [self._batch(token, group) for token, group in groups.items()]
        try:
            for keys, args in scripts:  # one group, or two after a failed write
                self._append(keys=keys, args=args)
        except RedisError as exc:
            with self._lock:
                for token, record in zip(tokens, records, strict=True):
                    self._tokens[id(record)] = (token, record)
                for stale in list(self._tokens)[: max(len(self._tokens) - _MAX_TOKENS, 0)]:
                    del self._tokens[stale]  # records the writer dropped while Redis was away
            raise StoreError(
                f"{self.url}: writing {len(records)} calls failed: {exc}",
                transient=not refused(exc),
            ) from exc
        with self._lock:
            for record in records:
                self._tokens.pop(id(record), None)

    def _batch(self, token: str, records: Sequence[CallRecord]) -> tuple[list[str], list[Any]]:
        """The keys and arguments of the script that adds ``records`` under ``token``."""
        days: dict[str, dict[str, int]] = {}
        for record in records:
            counters = days.setdefault(utc_day(record.timestamp), {})
            figs = figures(record)
            groups = [("m", record.provider, record.model or "unknown")]
            groups += [("t", name, value) for name, value in record.tags.items()]
            for group in groups:
                prefix = field_prefix(*group)
                add(counters, {prefix + name: value for name, value in figs.items()})
        keys = [
            usage_key(self.prefix, "batch", token),
            usage_key(self.prefix, "days"),
            usage_key(self.prefix, "meta"),
            usage_key(self.prefix, "tags"),
        ]
        args: list[Any] = [_MARKER_TTL, self.max_tag_values or 0]
        for day, counters in days.items():
            keys.append(usage_key(self.prefix, "day", day))
            args += [day, date.fromisoformat(day).toordinal(), len(counters)]
            for name, value in counters.items():
                args += [name, value]
        return keys, args
