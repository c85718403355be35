"""The in-memory backend: a bounded, thread-safe LRU of entries."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

from .._core import renew_after_fork
from ._entry import CacheEntry

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_ENTRIES", "MemoryBackend"]

DEFAULT_MAX_ENTRIES = 1024
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class MemoryBackend:
    """Keeps entries in this process, least recently used evicted first.

    Bounded both by the number of entries and by their total size (bodies and
    headers, approximately); an entry larger than ``max_bytes`` is not kept.
    Safe to share between threads. Its :attr:`secret` (for hashing credentials
    into keys) is random, so keys mean nothing outside this object.

    Args:
        max_entries: at most this many answers.
        max_bytes: at most this many bytes of answers in total.
    """

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be at least 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.secret = os.urandom(32)
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        renew_after_fork(self, "_lock", threading.Lock)

    def __repr__(self) -> str:
        return f"<MemoryBackend entries={len(self)} bytes={self._bytes}>"

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_bytes(self) -> int:
        """Approximate size of every entry kept."""
        return self._bytes

    def get(self, key: str) -> CacheEntry | None:
        """The entry under ``key`` (now the most recently used), or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def set(self, key: str, entry: CacheEntry, ttl: float | None = None) -> None:
        """Keep ``entry`` under ``key``, evicting the least recently used as needed.

        ``ttl`` is accepted for the backend interface; expiry is read from
        ``entry.expires_at`` by the cache.
        """
        size = entry.size
        with self._lock:
            self._remove(key)
            if size > self.max_bytes:
                return
            self._entries[key] = entry
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    def delete(self, key: str) -> None:
        """Forget the entry under ``key``, if any."""
        with self._lock:
            self._remove(key)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def close(self) -> None:
        """Nothing to release."""

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size
