"""What objects do in the child after ``fork``: a registry of weakly held hooks.

Why: gunicorn ``--preload``, celery prefork and ``multiprocessing`` with the fork
start method build the app (and its tracker, store, budgets and Redis clients)
once, then fork workers. A forked child has only the thread that forked: the
store writer's thread and the Redis outbox thread are gone, a lock another
thread held at that moment stays held forever, and an SQLite connection must
not be used on both sides. Each object that owns such a thing registers a
method here; it runs in every forked child, first thing, while the object is
alive (the registry holds it weakly, so registering keeps nothing alive).

Hooks must be quick and do no I/O (the child may ``exec`` at once): they
replace locks, forget what belongs to the parent (its queued records, its open
holds) and mark connections to be opened again on first use.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable

from ._log import logger

__all__ = ["after_fork_in_child"]

_hooks: dict[int, weakref.WeakMethod[Callable[[], None]]] = {}


def after_fork_in_child(method: Callable[[], None]) -> None:
    """Run bound ``method`` in the child after each ``fork``, while its object lives."""

    def forget(ref: object) -> None:
        _hooks.pop(id(ref), None)

    ref = weakref.WeakMethod(method, forget)
    _hooks[id(ref)] = ref


def _run_hooks() -> None:
    for ref in list(_hooks.values()):
        method = ref()
        if method is None:
            continue
        try:
            method()
        except Exception:  # the child must start whatever one object does
            logger.exception("tokenbudget: %r failed after fork", method)


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_run_hooks)
