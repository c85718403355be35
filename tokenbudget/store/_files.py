"""Files and folders tokenbudget creates are its user's alone: 0600 and 0700.

Usage data (who called which model, when, at what cost, with which tags) is
nobody else's business on a shared machine. What tokenbudget creates gets
these modes whatever the umask would allow; a file or folder that already
exists (the user made it, or chose its mode) is never changed.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["create_private_file", "make_private_dirs"]


def make_private_dirs(folder: str | os.PathLike[str]) -> None:
    """Create ``folder`` and its missing parents, each readable by its owner only (0700)."""
    missing: list[Path] = []
    path = Path(folder)
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.mkdir(path, 0o700)


def create_private_file(path: str | os.PathLike[str]) -> bool:
    """Create an empty ``path`` (and its folders) readable by its owner only (0600).

    Returns False, changing nothing, when it exists already (another process may
    have created it a moment ago).
    """
    make_private_dirs(Path(path).parent)
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    os.close(handle)
    return True
