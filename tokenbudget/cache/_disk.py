"""The disk backend: diskcache under a directory, shared by processes, kept across restarts.

Layout of the cache directory::

    <directory>/credential.key   32 random bytes: the secret credentials are hashed with
    <directory>/responses/       the diskcache store (SQLite index, large bodies as files)
    <directory>/flights/         short locks: which process is calling for which key

Folders the backend creates are 0700 and its files 0600 (``_private``).

Entries are stored as bytes in tokenbudget's own format (:meth:`CacheEntry.to_bytes`),
sealed with the folder's secret, never as pickles; a value that diskcache would
unpickle, or whose seal or fields do not check out, is a miss: the directory is
data, not code, and not trusted. Entries expire by diskcache's ``expire=`` (wall
clock) and by the expiry stamp inside each entry (the cache's own clock).
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

from .._core import (
    FILE_MODE,
    FOLDER_MODE,
    logger,
    make_private,
    private_file,
    private_folder,
    warn_once,
)
from ._entry import CacheEntry

__all__ = ["DEFAULT_SIZE_LIMIT", "DiskBackend", "default_cache_dir"]

DEFAULT_SIZE_LIMIT = 1024**3
SECRET_NAME = "credential.key"
_SECRET_SIZE = 32


def default_cache_dir() -> Path:
    """Where ``cache="disk"`` keeps answers unless told otherwise.

    ``$TOKENBUDGET_CACHE_DIR``, else ``$XDG_CACHE_HOME/tokenbudget``, else
    ``~/.cache/tokenbudget``.
    """
    explicit = os.environ.get("TOKENBUDGET_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "tokenbudget"


def _import_diskcache() -> Any:
    try:
        import diskcache  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError(
            'tokenbudget: the disk cache needs diskcache: pip install "tokenbudget[disk]"'
        ) from None
    return diskcache


@lru_cache(maxsize=1)
def _bytes_only_disk() -> type[Any]:
    """A diskcache ``Disk`` that refuses to unpickle what it reads."""
    from diskcache.core import MODE_PICKLE, UNKNOWN, Disk  # type: ignore[import-untyped]

    class BytesOnlyDisk(Disk):  # type: ignore[misc]
        def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
            if mode == MODE_PICKLE:
                raise ValueError("tokenbudget cache: refusing to unpickle a stored value")
            return super().fetch(mode, filename, value, read)

        def store(self, value: Any, read: bool, key: Any = UNKNOWN) -> Any:
            stored = super().store(value, read, key)
            filename = stored[2]
            if filename:  # a large value in its own file, under two levels of folders
                path = Path(self._directory, filename)
                make_private(path, FILE_MODE)
                make_private(path.parent, FOLDER_MODE)
                make_private(path.parent.parent, FOLDER_MODE)
            return stored

    return BytesOnlyDisk


def load_secret(directory: Path) -> bytes:
    """The directory's credential secret, created (atomically, mode 0600) on first use."""
    path = directory / SECRET_NAME
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    temporary = directory / f".{SECRET_NAME}.{os.getpid()}.{secrets.token_hex(8)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(descriptor, secrets.token_bytes(_SECRET_SIZE))
    finally:
        os.close(descriptor)
    try:
        os.link(temporary, path)  # fails if another process got there first: use theirs
    except FileExistsError:
        pass
    except OSError:  # no hard links on this file system: last writer wins, once
        if not path.exists():
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    data = path.read_bytes()
    if len(data) != _SECRET_SIZE:
        raise ValueError(f"tokenbudget cache: {path} is damaged; delete the cache directory")
    return data


def open_private_cache(diskcache: Any, folder: Path, size_limit: int) -> Any:
    """A diskcache ``Cache`` in ``folder`` whose folders and files are private (0700 / 0600)."""
    private_folder(folder, ours=True)
    database = folder / "cache.db"
    private_file(database)  # before SQLite creates it: its -wal and -shm copy its mode
    for journal in ("cache.db-wal", "cache.db-shm"):  # left by an older release
        make_private(folder / journal, FILE_MODE)
    return diskcache.Cache(
        str(folder),
        size_limit=size_limit,
        eviction_policy="least-recently-stored",
        disk=_bytes_only_disk(),
    )


class DiskBackend:
    """Keeps entries in ``directory`` with diskcache: process-safe, survives restarts.

    Args:
        directory: the cache directory (created if missing); default
            :func:`default_cache_dir`.
        size_limit: bytes on disk before the oldest stored entries are evicted.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        size_limit: int = DEFAULT_SIZE_LIMIT,
    ) -> None:
        diskcache = _import_diskcache()
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        private_folder(self.directory)
        self.secret = load_secret(self.directory)
        self._store = open_private_cache(diskcache, self.directory / "responses", size_limit)
        self._locks: Any = None  # opened on the first claim
        self._nonce = secrets.token_hex(8)

    def __repr__(self) -> str:
        return f"<DiskBackend {str(self.directory)!r}>"

    def __len__(self) -> int:
        return len(self._store)

    def get(self, key: str) -> CacheEntry | None:
        """The entry under ``key``, or ``None``.

        An entry that is damaged, rewritten or sealed by another cache folder is
        a miss: logged once and deleted, so the next answer replaces it.
        """
        try:
            data = self._store.get(key, default=None, retry=True)
            if data is None:
                return None
            if not isinstance(data, bytes):
                raise TypeError(f"a stored {type(data).__name__}, not bytes")
            return CacheEntry.from_bytes(data, self.secret)
        except (ValueError, TypeError) as exc:
            warn_once(
                f"cache-damaged:{self.directory}",
                "tokenbudget: a damaged entry in the disk cache %s was dropped (%s); "
                "the call goes to the provider",
                self.directory,
                type(exc).__name__,
            )
            logger.debug("damaged cache entry: %s", exc)
            self.delete(key)
            return None

    def set(self, key: str, entry: CacheEntry, ttl: float | None = None) -> None:
        """Keep ``entry`` under ``key``, sealed with the folder's secret; diskcache
        drops it ``ttl`` seconds from now."""
        self._store.set(key, entry.to_bytes(self.secret), expire=ttl, retry=True)

    def delete(self, key: str) -> None:
        """Forget the entry under ``key``, if any."""
        self._store.delete(key, retry=True)

    def clear(self) -> None:
        """Forget every entry (the credential secret stays)."""
        self._store.clear(retry=True)

    def claim(self, key: str, seconds: float) -> bool:
        """Take the lock on ``key`` for ``seconds`` unless another holder has it.

        Processes sharing the folder call the provider for one key at a time;
        a lock whose holder died expires by itself.
        """
        locks = self._locks
        if locks is None:
            locks = self._locks = open_private_cache(
                _import_diskcache(), self.directory / "flights", DEFAULT_SIZE_LIMIT
            )
        added: bool = locks.add(key, self._holder(), expire=seconds, retry=True)
        return added

    def unclaim(self, key: str) -> None:
        """Give back the lock on ``key`` if this process still holds it."""
        locks = self._locks
        if locks is None:
            return
        with locks.transact(retry=True):
            if locks.get(key, retry=True) == self._holder():
                locks.delete(key, retry=True)

    def close(self) -> None:
        """Close the SQLite connections of this process."""
        self._store.close()
        if self._locks is not None:
            self._locks.close()

    def _holder(self) -> str:
        # Per process: a forked child never gives back its parent's lock.
        return f"{os.getpid()}:{self._nonce}"
