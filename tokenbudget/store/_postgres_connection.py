"""Connecting to a PostgreSQL usage store, and the one connection every thread of a process shares.

The connection is made on first use (naming a store sends nothing; a tracker
uses it at once, to load the store's totals) and again after it breaks: every
use checks it, and a broken one is dropped and replaced on the next use. Errors
become :class:`StoreError`; ``transient`` is true for the server's failures
(away, restarting, out of space) and false only for a value the server refuses
(``DataError``, ``IntegrityError``), so the store writer keeps records through
an outage and sets aside only a record at fault.

Secrets: the URL's password (in its user part or a ``password=`` parameter)
never appears in :attr:`PostgresConnection.label`, in an error text or in a
log line; :func:`safe_url` replaces it with ``***``.

On first use in each process the schema is checked: made when missing (unless
``create=False``), brought up to date from an older version, refused when
newer (``_postgres_schema``). Fork: like the SQLite store's, a fork waits until
no thread uses the connection; the child opens its own connection on first use
and keeps the inherited one, unused and never closed (closing it would end the
parent's session on the shared socket).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from .._core import after_fork_in_child, around_fork, scrub_secrets
from ._base import StoreError
from ._postgres_schema import LOCK_KEY, MIGRATIONS, SCHEMA_VERSION, VERSION_TABLE

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresConnection", "import_psycopg", "safe_url"]

#: TCP keepalive settings (seconds; the last in milliseconds) unless the URL gives its own.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}

#: Connections inherited across fork: kept, unused, so that they are never closed in the child.
_INHERITED: list[Any] = []


def import_psycopg() -> Any:
    """The ``psycopg`` module, or an ImportError saying which extra brings it."""
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(
            'a postgresql:// usage store needs psycopg 3: pip install "tokenbudget[postgres]"'
        ) from exc
    return psycopg


def safe_url(url: str) -> str:
    """``url`` with its password (user part or ``password=`` parameter) replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "password" for name, _ in query):
        hidden = [(name, "***" if name == "password" else value) for name, value in query]
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(hidden, safe="*")))
    return urlunsplit(parts._replace(netloc=netloc))


def _secrets(url: str) -> list[str]:
    """The password of ``url`` in every spelling an error text might echo."""
    parts = urlsplit(url)
    found = [parts.password or ""]
    found += [value for name, value in parse_qsl(parts.query) if name == "password"]
    found += [unquote(value) for value in found]
    return sorted({value for value in found if value}, key=len, reverse=True)


class PostgresConnection:
    """The store's connection, made on first use and after a failure, used under a lock."""

    def __init__(self, url: str, *, create: bool, connect_timeout: float) -> None:
        self.label = safe_url(url)
        self._url = url
        self._secrets = _secrets(url)
        self._create = create
        self.connect_timeout = connect_timeout
        self._psycopg = import_psycopg()
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._closed = False
        self._held_at_fork = False
        after_fork_in_child(self._after_fork)
        around_fork(self._before_fork, self._after_fork_in_parent)

    def scrub(self, error: BaseException) -> str:
        """``error``'s text without the password, or anything else secret-looking."""
        text = str(error).strip() or type(error).__name__
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return scrub_secrets(text)

    # -- fork ----------------------------------------------------------------------------

    def _before_fork(self) -> None:
        self._held_at_fork = self._lock.acquire(timeout=self.connect_timeout + 5.0)

    def _after_fork_in_parent(self) -> None:
        if self._held_at_fork:
            self._held_at_fork = False
            self._lock.release()

    def _after_fork(self) -> None:
        self._lock = threading.RLock()
        self._held_at_fork = False
        if self._conn is not None:
            _INHERITED.append(self._conn)
            self._conn = None

    # -- connecting ----------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        pg = self._psycopg
        try:
            conn: psycopg.Connection[Any] = pg.connect(
                self._url, autocommit=True, **self._settings()
            )
        except pg.Error as exc:
            # from None: the chained error may quote the connection string
            raise StoreError(f"cannot connect to {self.label}: {self.scrub(exc)}") from None
        try:
            self._prepare(conn)
        except pg.Error as exc:
            conn.close()
            raise StoreError(
                f"{self.label}: checking the schema failed: {self.scrub(exc)}"
            ) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _settings(self) -> dict[str, Any]:
        """libpq settings the URL does not make itself: time limits, and TCP keepalives.

        Keepalives notice a server that vanished from the network (a partition, a
        machine gone) within about a minute, instead of never, while a query waits.
        """
        given = {name for name, _ in parse_qsl(urlsplit(self._url).query)}
        settings: dict[str, Any] = {
            "connect_timeout": max(1, round(self.connect_timeout)),
            **_KEEPALIVES,
        }
        return {name: value for name, value in settings.items() if name not in given}

    def _prepare(self, conn: psycopg.Connection[Any]) -> None:
        """Check the schema: make it, migrate it, or refuse it (see ``_postgres_schema``)."""
        version = _version(conn)
        if version is None and not self._create:
            raise StoreError(f"{self.label} holds no tokenbudget usage store (no {VERSION_TABLE})")
        if version == SCHEMA_VERSION:
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            version = _version(conn) or 0  # another process may have done it meanwhile
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.label} was written by a newer tokenbudget (schema {version});"
                    " upgrade tokenbudget to use it"
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    conn.execute(statement)
            conn.execute(f"UPDATE {VERSION_TABLE} SET version = %s", [SCHEMA_VERSION])

    # -- using ---------------------------------------------------------------------------

    @contextmanager
    def using(self, action: str) -> Iterator[psycopg.Connection[Any]]:
        """The connection (made or remade as needed), under the lock; errors as StoreError."""
        pg = self._psycopg
        with self._lock:
            if self._closed:
                raise StoreError(f"{self.label}: the store is closed")
            conn = self._conn
            if conn is None or conn.closed or conn.broken:
                self._drop()
                conn = self._conn = self._connect()
            try:
                yield conn
            except pg.Error as exc:
                if conn.closed or conn.broken:
                    self._drop()
                refused = isinstance(exc, (pg.DataError, pg.IntegrityError))
                raise StoreError(
                    f"{self.label}: {action} failed: {self.scrub(exc)}", transient=not refused
                ) from exc

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):  # a broken connection may fail to say goodbye
                conn.close()

    def close(self) -> None:
        """Close the connection; idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._drop()


def _version(conn: psycopg.Connection[Any]) -> int | None:
    """The schema version, or ``None`` when the database has no tokenbudget store."""
    # A query of the catalog, not to_regclass(): that reads a cache which may not yet
    # show a table another session made while this one waited for the advisory lock.
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables"
        " WHERE schemaname = current_schema() AND tablename = %s)",
        [VERSION_TABLE],
    ).fetchone()
    if row is None or not row[0]:
        return None
    found = conn.execute(f"SELECT MAX(version) FROM {VERSION_TABLE}").fetchone()
    return None if found is None or found[0] is None else int(found[0])
