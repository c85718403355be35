"""The memory backend: a bounded, thread-safe LRU."""

from __future__ import annotations

import threading

import pytest

from tokenbudget.cache import CacheEntry, MemoryBackend, StoredResponse


def entry(body: bytes = b"{}") -> CacheEntry:
    return CacheEntry(StoredResponse(200, (("content-type", "application/json"),), body), 0.0)


def test_least_recently_used_is_evicted_first() -> None:
    backend = MemoryBackend(max_entries=2)
    backend.set("a", entry())
    backend.set("b", entry())
    assert backend.get("a") is not None  # a is now the most recent
    backend.set("c", entry())
    assert backend.get("b") is None
    assert backend.get("a") is not None and backend.get("c") is not None
    assert len(backend) == 2


def test_bounded_in_bytes() -> None:
    small = entry(b"x" * 1000)
    backend = MemoryBackend(max_bytes=small.size * 3)
    for name in "abcd":
        backend.set(name, small)
    assert len(backend) == 3 and backend.get("a") is None
    assert backend.total_bytes == 3 * small.size


def test_an_entry_larger_than_the_bound_is_not_kept() -> None:
    backend = MemoryBackend(max_bytes=2000)
    backend.set("a", entry())
    backend.set("huge", entry(b"x" * 5000))
    assert backend.get("huge") is None and backend.get("a") is not None


def test_replacing_delete_and_clear_keep_the_byte_count() -> None:
    backend = MemoryBackend()
    backend.set("a", entry(b"x" * 100))
    backend.set("a", entry(b"x" * 10))
    assert len(backend) == 1 and backend.total_bytes == entry(b"x" * 10).size
    backend.delete("a")
    backend.delete("missing")
    assert backend.total_bytes == 0
    backend.set("b", entry())
    backend.clear()
    assert len(backend) == 0 and backend.total_bytes == 0
    backend.close()


def test_each_backend_has_its_own_secret() -> None:
    assert MemoryBackend().secret != MemoryBackend().secret


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MemoryBackend(max_entries=0)


def test_thread_safe_under_contention() -> None:
    backend = MemoryBackend(max_entries=50)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for index in range(2000):
                key = f"{(worker * 7 + index) % 120}"
                if index % 3:
                    backend.set(key, entry(b"x" * (index % 50)))
                else:
                    backend.get(key)
                if index % 97 == 0:
                    backend.delete(key)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(backend) <= 50
    kept = [backend.get(str(n)) for n in range(120)]
    assert backend.total_bytes == sum(found.size for found in kept if found is not None)
