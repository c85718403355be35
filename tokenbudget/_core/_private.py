"""Folders and files private to the user: what tokenbudget creates is 0700 / 0600.

Cached answers and usage data (who called which model, when, at what cost)
are nobody else's business on a shared machine, whatever the process umask.
Folders tokenbudget creates are made 0700; a folder that already exists and is
not tokenbudget's own (the user's ``cache_dir``, a store's folder) keeps its
mode. Files are created 0600 before SQLite opens them: SQLite gives its
``-wal`` and ``-shm`` files the mode of the database file. The cache and the
stores both create files through these.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["FILE_MODE", "FOLDER_MODE", "make_private", "private_file", "private_folder"]

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path, *, ours: bool = False) -> None:
    """Create ``path`` and any missing parents as 0700 folders.

    ``ours=True``: the folder belongs to tokenbudget (e.g. ``responses/``), so an
    existing one is made 0700 too (older releases created it 0755).
    """
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # another process made it: the mode is its choice, ours too
            continue
        folder.chmod(FOLDER_MODE)  # the umask may have taken bits away
    if ours and not missing:
        make_private(path, FOLDER_MODE)


def private_file(path: Path, *, tighten: bool = True) -> bool:
    """Create ``path`` empty with mode 0600 if missing; True if it was created.

    ``tighten``: an existing file (tokenbudget's own, made by an older release)
    is made 0600 too; ``False`` leaves an existing file as it is.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        if tighten:
            make_private(path, FILE_MODE)
        return False
    os.close(descriptor)
    return True


def make_private(path: Path, mode: int) -> None:
    """Take group and other permissions away from ``path``, if it is ours and has any."""
    try:
        info = path.stat()
        owner = getattr(os, "geteuid", lambda: info.st_uid)()
        if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == owner:
            path.chmod(mode)
    except OSError:  # gone meanwhile, or not ours to change: nothing to protect here
        pass
