"""Record and replay: provider answers kept in a directory, in the response cache's own format.

``--tokenbudget-record=DIR`` makes every tracked call for real and writes each
complete 2xx answer to ``DIR``; ``--tokenbudget-replay=DIR`` answers every
tracked call from ``DIR`` and never sends one (a call with no answer there is
refused by the trackers, see ``_trackers``).

The directory holds one file per answer, ``<key>.tbc``: a
:class:`~tokenbudget.cache.CacheEntry` as :meth:`~tokenbudget.cache.CacheEntry.to_bytes`
writes it (status, the cache's safe headers, the decoded body, the tokens).
Keys come from :class:`~tokenbudget.cache.CacheKeyer` with ``per_account=False``:
no credential and no account header goes into them, so a suite recorded with
a real API key replays with a fake one. Nothing about the request is stored,
so no API key can be in the directory. One file per answer (no database)
makes the directory easy to review and to commit, and safe for several
processes (pytest-xdist workers) writing at once: each file is written to a
temporary name and renamed into place.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..cache import CacheEntry, CallCache

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .._core import Exchange, StoredResponse

__all__ = ["SUFFIX", "FileBackend", "Recording", "describe_call"]

#: The file name suffix of a recorded answer.
SUFFIX = ".tbc"
_KEY = re.compile(r"[0-9a-f]{64}")


class FileBackend:
    """A cache backend keeping each entry in its own file under ``directory``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"<FileBackend {str(self.directory)!r}>"

    def __len__(self) -> int:
        return sum(1 for _ in self._files())

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.directory / f"{key}{SUFFIX}"

    def _files(self) -> Iterable[Path]:
        if not self.directory.is_dir():
            return ()
        return self.directory.glob(f"*{SUFFIX}")

    def get(self, key: str) -> CacheEntry | None:
        """The entry under ``key``, or ``None`` (also for a damaged file)."""
        try:
            return CacheEntry.from_bytes(self._path(key).read_bytes())
        except (OSError, ValueError):
            return None

    def set(self, key: str, entry: CacheEntry, ttl: float | None = None) -> None:
        """Write ``entry`` to its file at once (``ttl`` is ignored: recordings do not expire)."""
        target = self._path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{key[:16]}.", dir=self.directory)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(entry.to_bytes())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        """Remove the entry under ``key``, if any."""
        self._path(key).unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove every entry (other files in the directory are left alone)."""
        for path in list(self._files()):
            path.unlink(missing_ok=True)


def describe_call(exchange: Exchange) -> str:
    """``POST api.openai.com/v1/chat/completions model=gpt-4o``."""
    request, endpoint = exchange.request, exchange.endpoint
    text = f"{request.method} {request.host_port}{request.path}"
    if endpoint.request_model:
        text += f" model={endpoint.request_model}"
    return text


class Recording:
    """The response cache of the plugin's trackers in record or replay mode.

    Args:
        directory: where the answers are.
        mode: ``"record"`` (send every call, store its answer) or ``"replay"``
            (answer from the directory, store nothing).
        ignore_fields: request body fields left out of the keys (e.g. a
            ``"user"`` id that differs between runs).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        mode: Literal["record", "replay"],
        *,
        ignore_fields: Iterable[str] = (),
    ) -> None:
        self.mode = mode
        self.backend = FileBackend(directory)
        self._cache = CallCache(self.backend, ignore_fields=ignore_fields, per_account=False)

    def __repr__(self) -> str:
        return f"<Recording {self.mode} {str(self.directory)!r}>"

    @property
    def directory(self) -> Path:
        """The directory of the answers."""
        return self.backend.directory

    @property
    def stored(self) -> int:
        """Answers written by this process."""
        return self._cache.stats().stores

    def accepts(self, exchange: Exchange) -> bool:
        """True for the calls that are recorded and replayed: billable ``POST`` requests."""
        return self._cache.accepts(exchange)

    def lookup(self, exchange: Exchange) -> StoredResponse | None:
        """Replay: the recorded answer or ``None``. Record: ``None``, store the answer later."""
        if not self.accepts(exchange):
            return None
        key = self._cache.key(exchange)
        if self.mode == "record":
            exchange.cache_key = key
            return None
        entry = self.backend.get(key)
        return None if entry is None else entry.response

    def store(self, exchange: Exchange, response: StoredResponse) -> None:
        """Record mode: write a complete 2xx answer (safe headers only)."""
        if self.mode == "record":
            self._cache.store(exchange, response)

    def miss_message(self, exchange: Exchange) -> str:
        """Why a replayed call fails, and how to fix it."""
        return (
            f"tokenbudget: call not recorded: {describe_call(exchange)}; it was not sent. "
            f"Re-record with --tokenbudget-record={self.directory} (the request must be "
            "identical to the recorded one: model, messages and every other body field)"
        )
