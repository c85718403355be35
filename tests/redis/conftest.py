"""Real ``redis-server`` processes for the Redis tests.

One server serves the session (flushed before each test); fault tests get
their own, which they stop, pause and restart. When ``redis-server`` is not
installed the tests skip, saying so, unless ``TOKENBUDGET_REQUIRE_REDIS=1``
(set by ``.ci/run``, which installs it): then they fail, so CI never skips them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import REDIS_SERVER, RedisServer

REQUIRED = os.environ.get("TOKENBUDGET_REQUIRE_REDIS") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason}, and TOKENBUDGET_REQUIRE_REDIS=1 says these tests must run")
    pytest.skip(reason)


def _started(directory: Path, *, persist: bool = False) -> RedisServer:
    try:
        import redis  # noqa: F401
    except ImportError:
        _unavailable('the redis client is not installed (pip install "tokenbudget[redis]")')
    if REDIS_SERVER is None:
        _unavailable("redis-server is not on PATH (apt-get install -y redis-server)")
    server = RedisServer(directory, persist=persist)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        _unavailable(f"redis-server could not be started: {exc}")
    return server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The session's server."""
    server = _started(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session server's URL, its data flushed."""
    import redis

    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server.url


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of this test's own, to stop and restart (its data survives a restart)."""
    server = _started(tmp_path / "redis", persist=True)
    yield server
    server.stop()
