"""Files and folders a store creates are its user's alone: 0600 and 0700.

The store's public names for :mod:`tokenbudget._core`'s private-file helpers
(the cache creates its files through the same ones). A file or folder that
already exists (the user made it, or chose its mode) is never changed.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._core import private_file, private_folder

__all__ = ["create_private_file", "make_private_dirs"]


def make_private_dirs(folder: str | os.PathLike[str]) -> None:
    """Create ``folder`` and its missing parents, each readable by its owner only (0700)."""
    private_folder(Path(folder))


def create_private_file(path: str | os.PathLike[str]) -> bool:
    """Create an empty ``path`` (and its folders) readable by its owner only (0600).

    Returns False, changing nothing, when it exists already (another process may
    have created it a moment ago).
    """
    target = Path(path)
    private_folder(target.parent)
    return private_file(target, tighten=False)
