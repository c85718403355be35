"""What a response cache did: its running counts, and ``CacheStats``, the report made of them.

:class:`CacheCounters` counts as calls go by (hits, misses, stores...), under a
lock; :meth:`CallCache.stats` turns them into a frozen :class:`CacheStats`
(``tracker.cache_stats``), adding what the counts do not know: how many entries
the backend holds, how many lookups wait right now, and the saved cost, which
comes from the tracker's records.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["CacheCounters", "CacheStats"]


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What the response cache did: ``tracker.cache_stats``.

    ``hits`` were answered from the cache, ``misses`` went to the provider
    (and were stored when complete), ``bypassed`` and ``refreshed`` were made
    in ``no_cache()`` / ``refresh_cache()`` blocks. ``saved_cost_usd`` is what
    the hits would have cost (from the tracker's records); ``saved_tokens``
    the input plus output tokens they stand for.
    """

    hits: int = 0
    misses: int = 0
    bypassed: int = 0
    refreshed: int = 0
    stores: int = 0
    entries: int = 0
    saved_tokens: int = 0
    saved_cost_usd: Decimal = Decimal(0)
    coalesced: int = 0
    """Hits that waited for an identical call in flight (part of ``hits``)."""
    waiting: int = 0
    """Lookups waiting for an identical call in flight right now."""

    @property
    def hit_rate(self) -> float:
        """Hits over lookups (hits plus misses); 0.0 before any lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class CacheCounters:
    """The running counts a :class:`CacheStats` is made from, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = {
            "hits": 0,
            "misses": 0,
            "bypassed": 0,
            "refreshed": 0,
            "stores": 0,
            "coalesced": 0,
        }
        self._saved_tokens = 0

    def count(self, name: str) -> None:
        """One more ``name`` (``"misses"``, ``"bypassed"``, ``"refreshed"``, ``"stores"``)."""
        with self._lock:
            self._counts[name] += 1

    def hit(self, tokens: int, coalesced: bool = False) -> None:
        """One more hit, standing for ``tokens``; ``coalesced``: it waited for a call in flight."""
        with self._lock:
            self._counts["hits"] += 1
            if coalesced:
                self._counts["coalesced"] += 1
            self._saved_tokens += tokens

    def stats(self, entries: int, saved_cost_usd: Decimal, waiting: int) -> CacheStats:
        """The counts so far, with what only the cache's owner knows."""
        with self._lock:
            return CacheStats(
                **self._counts,
                entries=entries,
                saved_tokens=self._saved_tokens,
                saved_cost_usd=saved_cost_usd,
                waiting=waiting,
            )

    def after_fork(self) -> None:
        """In a forked child: a fresh lock (the counts are kept)."""
        self._lock = threading.Lock()
