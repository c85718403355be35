"""Opening a SQLite usage store, and the one connection every thread of a process shares.

The file is opened in WAL mode with ``synchronous=NORMAL``: readers never block
the writer, and a commit costs no fsync (a power cut may lose the last
commits, never corrupt the file). Several processes on one machine may share a
file: each write is one short ``BEGIN IMMEDIATE`` transaction and a writer that
finds the file locked waits up to ``timeout`` seconds (SQLite's busy timeout)
before its batch fails, and is retried by the :class:`StoreWriter`. A network
file system (NFS, SMB) does not give SQLite working locks: use one file per
machine there.

One connection serves all threads of a process, behind a lock; reads page
through results (:data:`PAGE` rows at a time) so a long export never holds it
for long.

Fork: SQLite connections must not cross ``fork``, least of all in the middle
of a transaction: a fork waits (up to the busy timeout plus five seconds) until
no thread of the process is using the store, so the parent holds no SQLite
lock at that moment. In a forked child the store
takes a new lock and opens a new connection to the same file on first use; the
inherited one is kept open but never used (closing it in the child could
checkpoint or remove the parent's WAL files). An in-memory store keeps its
connection: the child has its own copy of the data.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from .._core import after_fork_in_child, around_fork
from ._base import StoreError
from ._files import create_private_file
from ._sqlite_schema import APPLICATION_ID, MIGRATIONS, SCHEMA, SCHEMA_VERSION, DecimalSum

__all__ = ["PAGE", "SQLiteConnection"]

#: Rows read per query when paging through calls: one short hold of the lock each.
PAGE = 500

#: Connections inherited across fork: kept, unused, so that they are never closed in the child.
_INHERITED: list[sqlite3.Connection] = []


class SQLiteConnection:
    """The store's connection, opened and checked, used under a lock by every thread.

    Opening raises :class:`StoreError` when the file is missing
    (``create=False``), is not a SQLite database, is another application's
    database, or was made by a newer tokenbudget.
    """

    def __init__(self, path: Path, url: str, *, memory: bool, create: bool, timeout: float) -> None:
        self.path = path
        self.url = url
        self.memory = memory
        self.timeout = timeout
        self._lock = threading.RLock()
        self._closed = False
        self._stale = False
        self._held_at_fork = False
        self._conn = self._connect(create, timeout)
        after_fork_in_child(self._after_fork)
        around_fork(self._before_fork, self._after_fork_in_parent)

    def _before_fork(self) -> None:
        """Wait until no thread is using the store (no transaction open across the fork)."""
        self._held_at_fork = self._lock.acquire(timeout=self.timeout + 5.0)

    def _after_fork_in_parent(self) -> None:
        if self._held_at_fork:
            self._held_at_fork = False
            self._lock.release()

    def _after_fork(self) -> None:
        """In a forked child: a new lock, and a new connection on first use (file stores)."""
        self._lock = threading.RLock()
        self._held_at_fork = False
        if not self.memory and not self._closed:
            _INHERITED.append(self._conn)
            self._stale = True

    # -- opening -------------------------------------------------------------------------

    def _connect(self, create: bool, timeout: float) -> sqlite3.Connection:
        if self.memory:
            target, uri = ":memory:", False
        else:
            if not create and not self.path.exists():
                raise StoreError(f"{self.path}: no such file")
            if create and not self.path.exists():
                # A new store is its owner's alone; SQLite gives the -wal and -shm
                # files the database file's mode.
                try:
                    create_private_file(self.path)
                except OSError as exc:
                    raise StoreError(f"{self.path}: cannot create: {exc}") from exc
            mode = "rwc" if create else "rw"
            target, uri = f"file:{quote(str(self.path))}?mode={mode}", True
        try:
            conn = sqlite3.connect(
                target, timeout=timeout, isolation_level=None, check_same_thread=False, uri=uri
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open: {exc}") from exc
        try:
            self._prepare(conn, create, timeout)
        except sqlite3.OperationalError as exc:
            conn.close()
            if _busy(exc):
                raise StoreError(f"{self.path}: locked by another process ({exc})") from exc
            raise StoreError(f"{self.path}: cannot open: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{self.path} is not a tokenbudget usage store ({exc})") from exc
        except BaseException:
            conn.close()
            raise
        conn.create_aggregate("tb_dsum", 1, cast(Any, DecimalSum))
        return conn

    def _prepare(self, conn: sqlite3.Connection, create: bool, timeout: float) -> None:
        """Check the file is ours (making the schema in a new one), waiting out other openers.

        Another process may be making the schema of the same new file at this
        moment: the schema is made in one ``BEGIN IMMEDIATE`` transaction that
        checks the file is still empty inside it, and a file found locked is
        tried again until ``timeout`` (SQLite returns "locked" without waiting
        while a new WAL file is being set up).
        """
        deadline = time.monotonic() + timeout
        pause = 0.005
        while True:
            try:
                self._check_or_create(conn, create)
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() + pause > deadline:
                    raise
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def _check_or_create(self, conn: sqlite3.Connection, create: bool) -> None:
        app_id, version, tables = _identity(conn)
        if app_id == 0 and tables == 0:
            if not create:
                raise StoreError(f"{self.path} is empty, not a tokenbudget usage store")
            conn.execute("BEGIN IMMEDIATE")
            try:
                app_id, version, tables = _identity(conn)
                if app_id == 0 and tables == 0:  # no other process got there first
                    for statement in SCHEMA:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    app_id, version = APPLICATION_ID, SCHEMA_VERSION
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        if app_id != APPLICATION_ID:
            raise StoreError(
                f"{self.path} is not a tokenbudget usage store"
                " (a SQLite database of another application)"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer tokenbudget (schema {version});"
                " upgrade tokenbudget to read it"
            )
        _set_pragmas(conn)
        if version < SCHEMA_VERSION:
            _migrate(conn)

    # -- using -------------------------------------------------------------------------

    @contextmanager
    def using(self, action: str) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, with SQLite errors as :class:`StoreError`."""
        with self._lock:
            if self._closed:
                raise StoreError(f"{self.url}: the store is closed")
            if self._stale:
                self._conn = self._connect(False, self.timeout)
                self._stale = False
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise StoreError(
                    f"{self.url}: {action} failed: {exc}",
                    transient=isinstance(exc, sqlite3.OperationalError),
                ) from exc

    @contextmanager
    def transaction(self, action: str) -> Iterator[sqlite3.Connection]:
        """:meth:`using`, in one ``BEGIN IMMEDIATE`` transaction: committed, or rolled back."""
        with self.using(action) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the connection; idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                if not self._stale:
                    self._conn.close()


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a store of an older schema up to date, once, whichever process gets there first."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _identity(conn)[1]
        for step in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _identity(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """Application id, schema version and table count, read in one statement (one snapshot)."""
    row = conn.execute(
        "SELECT (SELECT application_id FROM pragma_application_id),"
        " (SELECT user_version FROM pragma_user_version),"
        " (SELECT COUNT(*) FROM sqlite_master)"
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Whether ``exc`` is SQLite's "locked"/"busy": another connection holds the file."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _set_pragmas(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
