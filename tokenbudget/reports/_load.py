"""Opening what a report reads: a usage store, or a JSON or CSV export written earlier."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .._data import CallRecord
from ..store import SQLiteStore, open_store
from ._csv import read_csv
from ._json import read_json
from ._source import RecordsSource, StoreSource, UsageSource

__all__ = ["ReportError", "open_source", "read_csv_export", "read_json_export"]

_SQLITE_MAGIC = b"SQLite format 3\x00"


class ReportError(ValueError):
    """A report input the user can fix: a missing file, a broken export, a bad option."""


def read_json_export(path: str | os.PathLike[str]) -> list[CallRecord]:
    """The calls of a JSON export (raises :class:`ReportError` when it is not one)."""
    try:
        return read_json(path).records
    except (OSError, ValueError) as exc:
        raise ReportError(str(exc)) from exc


def read_csv_export(path: str | os.PathLike[str]) -> list[CallRecord]:
    """The calls of a CSV export (raises :class:`ReportError` when it is not one)."""
    try:
        return list(read_csv(path))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ReportError(str(exc)) from exc


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".json", ".csv"):
        return suffix[1:]
    with path.open("rb") as handle:
        start = handle.read(64)
    if start.startswith(_SQLITE_MAGIC) or not start:
        return "sqlite"
    if start.lstrip().startswith(b"{"):
        return "json"
    if start.startswith(b"timestamp,"):
        return "csv"
    return "sqlite"  # SQLite then says what is wrong with it


@contextmanager
def open_source(spec: str | os.PathLike[str]) -> Iterator[UsageSource]:
    """A source for ``spec``: a store file or URL, or a ``.json``/``.csv`` export.

    Stores are opened as they are (never created); the block closes them.
    Raises :class:`ReportError` for a missing or unreadable file and
    :class:`~tokenbudget.store.StoreError` for a file that is not a usage store.
    """
    text = os.fspath(spec)
    if "://" in text:
        try:
            store = open_store(text, create=False)
        except ValueError as exc:  # an unknown scheme
            raise ReportError(str(exc)) from exc
    else:
        path = Path(text)
        if not path.exists():
            raise ReportError(f"{path}: no such file")
        if path.is_dir():
            raise ReportError(f"{path} is a directory, not a usage store or export")
        kind = _kind(path)
        if kind == "json":
            yield RecordsSource(read_json_export(path), path.name)
            return
        if kind == "csv":
            yield RecordsSource(read_csv_export(path), path.name)
            return
        store = SQLiteStore(path, create=False)
    try:
        yield StoreSource(store)
    finally:
        store.close()
