"""The store suite's backends: SQLite files, and databases on a PostgreSQL server of its own.

``store_spec`` is what ``TokenTracker(store=...)`` and ``open_store`` take, once
per backend: a new SQLite file, or a new database on the session's PostgreSQL
server (``pg_server``, started with ``initdb``/``pg_ctl`` on a free loopback
port and stopped at the end). When PostgreSQL or psycopg is missing the
PostgreSQL cases skip, saying so, unless ``TOKENBUDGET_REQUIRE_POSTGRES=1``
(set by ``.ci/run``, which installs the server): then they fail, so CI never
skips them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .pg_server import PostgresServer, find_bin

REQUIRED = os.environ.get("TOKENBUDGET_REQUIRE_POSTGRES") == "1"


def unavailable(reason: str) -> None:
    """Skip, or fail when ``TOKENBUDGET_REQUIRE_POSTGRES=1``."""
    if REQUIRED:
        pytest.fail(f"{reason}, and TOKENBUDGET_REQUIRE_POSTGRES=1 says these tests must run")
    pytest.skip(reason)


def started_server() -> PostgresServer:
    """A new server, started (or skip/fail saying why not)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable('psycopg is not installed (pip install "tokenbudget[postgres]")')
    bin_dir = find_bin()
    if bin_dir is None:
        unavailable("PostgreSQL is not installed (apt-get install -y postgresql)")
    assert bin_dir is not None
    try:
        server = PostgresServer(bin_dir)
    except KeyError:
        unavailable("we are root and there is no postgres user to run PostgreSQL as")
        raise
    try:
        server.init()
        server.start()
    except (OSError, RuntimeError) as exc:
        server.remove()
        unavailable(f"PostgreSQL could not be started: {exc}")
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The session's server (one per xdist worker)."""
    server = started_server()
    yield server
    server.remove()


@pytest.fixture
def own_pg_server() -> Iterator[PostgresServer]:
    """A server of this test's own, to stop and start again."""
    server = started_server()
    yield server
    server.remove()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each store backend in turn."""
    return str(request.param)


@pytest.fixture
def store_spec(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A new, empty store of ``backend``: a file path or a ``postgresql://`` URL."""
    if backend == "sqlite":
        return str(tmp_path / "usage.db")
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.new_database()
