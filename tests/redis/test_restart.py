"""The Redis usage store across a server restart: what is kept, and what a server without
persistence loses.

The store writer keeps the records it could not write while Redis is away and
writes them once it answers again; the counters written before a restart
survive only if Redis persists them (AOF or snapshots).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenbudget import TokenTracker
from tokenbudget.redis import RedisStore
from tokenbudget.store import StoreWriter

from .server import REDIS_SERVER, RedisServer


@pytest.fixture
def volatile_server(tmp_path: Path, own_server: RedisServer) -> Iterator[RedisServer]:
    """A server that keeps nothing on disk (``own_server`` first: it skips or fails as needed)."""
    assert REDIS_SERVER is not None
    server = RedisServer(tmp_path / "volatile", persist=False)
    server.start()
    yield server
    server.stop()


def _drain(writer: StoreWriter) -> None:
    while writer.pending:
        writer.flush(timeout=None)
        time.sleep(0.01)


def _restart_mid_run(server: RedisServer) -> tuple[int, int]:
    """10 calls, stop, 5 calls while away, restart: (calls in the store, calls in memory)."""
    with TokenTracker(store=server.url) as tracker:
        for _ in range(10):
            tracker.track("gpt-4o", 10, 5)
        assert tracker.flush(timeout=30)
        server.stop()
        for _ in range(5):
            tracker.track("gpt-4o", 10, 5)
        writer = tracker._writer  # the unit under test: its queue across the outage
        assert writer is not None
        while writer.flush(timeout=None):  # until it has met the outage
            time.sleep(0.01)
        server.start()
        _drain(writer)
        in_memory = tracker.usage.calls
    with RedisStore(url=server.url) as store:
        return store.summary().calls, in_memory


def test_a_persistent_server_restarted_mid_run_loses_nothing(own_server: RedisServer) -> None:
    assert _restart_mid_run(own_server) == (15, 15)


def test_a_server_without_persistence_loses_what_it_held_before_the_restart(
    volatile_server: RedisServer,
) -> None:
    # The 10 counted before the restart were in Redis' memory only; the 5 made
    # while it was away waited in the writer and were written after it came back.
    assert _restart_mid_run(volatile_server) == (5, 15)
