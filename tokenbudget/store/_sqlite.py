"""``SQLiteStore``: the embedded usage store, one file, safe for several processes.

Its parts, one job each:

- ``_sqlite_connection``: opening the file (checking it is ours, making the
  schema) and the one connection every thread shares, behind a lock; WAL mode
  and busy timeouts, which is what makes several processes safe;
- ``_sqlite_schema``: the tables, and the mapping between rows and records;
- ``_sqlite_reads``: totals, groupings and records, as SQL (:class:`SQLiteReads`);
- ``_sqlite_writes``: appending calls and repricing them (:class:`SQLiteWrites`).
"""

from __future__ import annotations

import os
from pathlib import Path

from ._base import UsageStore
from ._sqlite_connection import SQLiteConnection
from ._sqlite_reads import SQLiteReads
from ._sqlite_writes import SQLiteWrites

__all__ = ["SQLiteStore"]


class SQLiteStore(SQLiteReads, SQLiteWrites, UsageStore):
    """Call records in one SQLite file (or in memory with ``":memory:"``).

    Args:
        path: the database file; created (with its schema and any missing
            folder) when missing unless ``create=False``. A file it creates is
            readable by its owner only (0600; its folders 0700), and so are
            SQLite's ``-wal`` and ``-shm`` files beside it; an existing file
            keeps its mode.
        create: make the file and schema when absent; ``False`` opens only an
            existing tokenbudget store (what ``tokenbudget report`` does).
        timeout: seconds a write waits for another process's lock.

    Raises :class:`StoreError` when the file is not a SQLite database, is
    another application's database, or was made by a newer tokenbudget.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, create: bool = True, timeout: float = 5.0
    ) -> None:
        self.memory = str(path) == ":memory:"
        self.path = Path(path) if not self.memory else Path(":memory:")
        self.url = "sqlite://" if self.memory else f"sqlite:///{self.path.resolve()}"
        self._db = SQLiteConnection(
            self.path, self.url, memory=self.memory, create=create, timeout=timeout
        )

    def __repr__(self) -> str:
        return f"<SQLiteStore {self.url}>"

    def close(self) -> None:
        """Close the connection; idempotent."""
        self._db.close()
