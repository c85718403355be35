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

__all__ = ["after_fork_in_child", "around_fork", "renew_after_fork"]

_Hooks = dict[int, weakref.WeakMethod[Callable[[], None]]]
_hooks: _Hooks = {}
_before: _Hooks = {}
_in_parent: _Hooks = {}
_renewals: dict[int, tuple[weakref.ref[object], str, Callable[[], object]]] = {}


def _add(table: _Hooks, method: Callable[[], None]) -> None:
    def forget(ref: object) -> None:
        table.pop(id(ref), None)

    ref = weakref.WeakMethod(method, forget)
    table[id(ref)] = ref


def after_fork_in_child(method: Callable[[], None]) -> None:
    """Run bound ``method`` in the child after each ``fork``, while its object lives."""
    _add(_hooks, method)


def renew_after_fork(owner: object, name: str, factory: Callable[[], object]) -> None:
    """Give ``owner.name`` a new ``factory()`` (a lock) in each forked child, while it lives.

    For the locks that guard process-wide state (a module's, a class's, a shared
    object's): one that another thread held at the fork would stay held in the
    child. Renewed before any hook runs, so hooks may take them.
    """

    def forget(ref: object) -> None:
        _renewals.pop(id(ref), None)

    ref = weakref.ref(owner, forget)
    _renewals[id(ref)] = (ref, name, factory)


def around_fork(before: Callable[[], None], after_in_parent: Callable[[], None]) -> None:
    """Run bound ``before`` just before each ``fork`` and ``after_in_parent`` after it.

    For an object that must not be caught half-way by a fork (a store in the
    middle of a transaction): ``before`` takes its lock, ``after_in_parent``
    gives it back, and its :func:`after_fork_in_child` hook replaces it.
    """
    _add(_before, before)
    _add(_in_parent, after_in_parent)


def _run_before() -> None:
    _run(list(_before.values())[::-1])  # the reverse order, as os.register_at_fork does


def _run_in_parent() -> None:
    _run(list(_in_parent.values()))


def _run_hooks() -> None:
    for ref, name, factory in list(_renewals.values()):
        owner = ref()
        if owner is not None:
            setattr(owner, name, factory())
    _run(list(_hooks.values()))


def _run(hooks: list[weakref.WeakMethod[Callable[[], None]]]) -> None:
    for ref in hooks:
        method = ref()
        if method is None:
            continue
        try:
            method()
        except Exception:  # the child must start whatever one object does
            logger.exception("tokenbudget: %r failed after fork", method)


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(
        before=_run_before, after_in_parent=_run_in_parent, after_in_child=_run_hooks
    )
