"""From ``TokenTracker(cache=..., cache_dir=..., ...)`` arguments to a response cache."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from .._core import ResponseCache
from ._backend import CacheBackend
from ._cache import CallCache
from ._disk import DiskBackend
from ._memory import DEFAULT_MAX_ENTRIES, MemoryBackend
from ._stats import CacheStats

__all__ = ["build_cache", "cache_stats"]

CacheOption = str | CacheBackend | ResponseCache | None


def build_cache(
    cache: Any,
    *,
    directory: str | os.PathLike[str] | None = None,
    ttl: float | timedelta | None = None,
    max_entries: int | None = None,
    ignore_fields: Iterable[str] = (),
    vary_headers: Iterable[str] = (),
) -> ResponseCache | None:
    """The cache a tracker uses, from its constructor arguments.

    ``cache`` is ``"memory"``, ``"disk"``, ``None`` (no cache), a storage
    backend (``get``/``set``/``delete``/``clear``: wrapped in a :class:`CallCache`
    with ``ttl`` and ``ignore_fields``), or a ready :class:`CallCache` (or any
    object with ``lookup``/``store``), used as it is. ``vary_headers``: request
    headers that part answers besides the credentials (see :class:`CacheKeyer`).
    """
    ignore = tuple(ignore_fields)
    vary = tuple(vary_headers)
    given = {
        "cache_dir": directory is not None,
        "cache_ttl": ttl is not None,
        "cache_max_entries": max_entries is not None,
        "cache_ignore_fields": bool(ignore),
        "cache_vary_headers": bool(vary),
    }
    if cache is None:
        _refuse(given, "they need cache='memory' or cache='disk'")
        return None
    if cache == "memory":
        _refuse({"cache_dir": given["cache_dir"]}, "it is for cache='disk'")
        backend: CacheBackend = MemoryBackend(max_entries or DEFAULT_MAX_ENTRIES)
    elif cache == "disk":
        _refuse(
            {"cache_max_entries": given["cache_max_entries"]},
            "the disk cache is bounded in bytes: pass cache=DiskBackend(dir, size_limit=...)",
        )
        backend = DiskBackend(directory)
    elif isinstance(cache, str):
        raise ValueError(f"unknown cache {cache!r}: use 'memory', 'disk', None or a backend")
    elif hasattr(cache, "lookup") and hasattr(cache, "store"):
        _refuse(given, "configure the cache object itself")
        ready: ResponseCache = cache
        return ready
    elif isinstance(cache, CacheBackend):
        _refuse(
            {"cache_dir": given["cache_dir"], "cache_max_entries": given["cache_max_entries"]},
            "configure the backend object itself",
        )
        backend = cache
    else:
        raise TypeError(
            f"cache must be 'memory', 'disk', None, a CallCache or a backend with "
            f"get/set/delete/clear, not {type(cache).__name__}"
        )
    return CallCache(backend, ttl=ttl, ignore_fields=ignore, vary_headers=vary)


def _refuse(given: dict[str, bool], reason: str) -> None:
    names = [name for name, present in given.items() if present]
    if names:
        raise ValueError(f"tokenbudget: {', '.join(names)} not used here: {reason}")


def cache_stats(cache: ResponseCache | None, saved_cost_usd: Decimal) -> CacheStats:
    """``tracker.cache_stats``: the cache's counters (zeros when it keeps none)."""
    if isinstance(cache, CallCache):
        return cache.stats(saved_cost_usd)
    stats = getattr(cache, "stats", None)
    if callable(stats):
        found = stats(saved_cost_usd)
        if isinstance(found, CacheStats):
            return found
    return CacheStats(saved_cost_usd=saved_cost_usd)
