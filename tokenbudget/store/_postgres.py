"""``PostgresStore``: the usage store for many processes and machines, in PostgreSQL.

``TokenTracker(store="postgresql://user:password@host/db")`` (or
``postgres://``; any libpq URL parameter, e.g. ``?sslmode=require``, passes
through) needs ``tokenbudget[postgres]`` (psycopg 3). Its parts, one job each:

- ``_postgres_connection``: the connection (made on first use and remade after
  a failure), errors as :class:`StoreError` without the password, the schema
  check and migrations, fork;
- ``_postgres_schema``: the tables, their versioned migrations, shared SQL;
- ``_postgres_reads``: totals, groupings and records (:class:`PostgresReads`);
- ``_postgres_writes``: appending calls exactly once and repricing them.

While the server is away the tracker's :class:`StoreWriter` keeps the calls
in memory (up to its ``max_pending``, 100,000 by default, then it drops the
oldest from the queue, counts them in ``dropped`` and logs an error) and
retries with a growing pause; the first batch after the server is back writes
them all, in order.
"""

from __future__ import annotations

from ._base import UsageStore
from ._postgres_connection import PostgresConnection
from ._postgres_reads import PostgresReads
from ._postgres_writes import PostgresWrites

__all__ = ["PostgresStore"]


class PostgresStore(PostgresReads, PostgresWrites, UsageStore):
    """Call records in a PostgreSQL database, shared by every process that names it.

    Args:
        url: ``postgresql://`` or ``postgres://`` URL of the database (libpq's
            spelling). :attr:`url` is this URL with its password as ``***``.
        create: make the tables when the database has none; ``False`` uses
            only an existing tokenbudget store (what ``tokenbudget report`` does).
        connect_timeout: seconds a connection attempt waits for the server.

    Nothing is sent until the first use; a server that cannot be reached, a
    database without a store (``create=False``) or one written by a newer
    tokenbudget raise :class:`StoreError` there.
    """

    def __init__(self, url: str, *, create: bool = True, connect_timeout: float = 5.0) -> None:
        self._db = PostgresConnection(url, create=create, connect_timeout=connect_timeout)
        self.url = self._db.label

    def __repr__(self) -> str:
        return f"<PostgresStore {self.url}>"

    def close(self) -> None:
        """Close the connection; idempotent."""
        self._db.close()
