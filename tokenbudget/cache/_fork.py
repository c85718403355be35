"""Caches survive ``fork``: locks are made anew in the child, calls in flight forgotten.

A lock held by another thread at the moment of ``fork`` stays held forever in
the child (that thread does not exist there). Objects registered here get their
``_after_fork()`` called in every forked child (``os.register_at_fork``), before
the child's own code runs. The disk backend needs nothing: diskcache opens a new
SQLite connection when it sees a new process id.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

__all__ = ["reinit_after_fork"]

_objects: weakref.WeakSet[Any] = weakref.WeakSet()


def reinit_after_fork(obj: Any) -> None:
    """Call ``obj._after_fork()`` in every child forked while ``obj`` is alive."""
    _objects.add(obj)


def _in_child() -> None:
    for obj in list(_objects):
        obj._after_fork()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_in_child)
