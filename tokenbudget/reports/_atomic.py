"""Writing a report file all at once: readers see the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

__all__ = ["atomic_text"]


@contextmanager
def atomic_text(path: str | os.PathLike[str], *, newline: str | None = None) -> Iterator[TextIO]:
    """A UTF-8 text file that replaces ``path`` when the block ends without error.

    The data goes to a temporary file beside ``path`` (same file system),
    is flushed to disk, then renamed over ``path`` (``os.replace`` is atomic).
    On an error the temporary file is removed and ``path`` is left as it was.
    A new file is readable by its owner only (usage data is nobody else's
    business); replacing a file keeps that file's permissions.
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or Path(".")
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline=newline) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o777)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
