"""``CacheBackend``: the interface of the stores a :class:`CallCache` keeps its entries in.

:class:`MemoryBackend` and :class:`DiskBackend` are two; any object with these
methods will do. A structural :class:`~typing.Protocol`, checkable at run time,
so that ``TokenTracker(cache=...)`` can tell a backend from a finished cache.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ._entry import CacheEntry

__all__ = ["CacheBackend"]


@runtime_checkable
class CacheBackend(Protocol):
    """Where entries live. :class:`MemoryBackend` and :class:`DiskBackend` are two.

    A backend may also have a ``secret`` attribute (bytes): the key credentials
    are hashed with, so that keys mean nothing outside this store. A backend
    that stores bytes can use :meth:`CacheEntry.to_bytes` / ``from_bytes``.
    """

    def get(self, key: str) -> CacheEntry | None:
        """The entry under ``key``, or ``None``."""

    def set(self, key: str, entry: CacheEntry, ttl: float | None = None) -> None:
        """Keep ``entry`` under ``key`` (``ttl``: seconds it may be dropped after)."""

    def delete(self, key: str) -> None:
        """Forget the entry under ``key``, if any."""

    def clear(self) -> None:
        """Forget every entry."""

    def __len__(self) -> int:
        """How many entries are kept."""

    # Optional, for backends shared by processes (the disk backend has them):
    # ``claim(key, seconds) -> bool`` takes a lock on ``key`` that expires by itself,
    # ``unclaim(key)`` gives it back. Identical misses in other processes then wait.
