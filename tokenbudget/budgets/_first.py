"""Telling whoever asks that this process has a budget now, once.

Work that only a budget can need (the tracked clients' early refusal, see
``tokenbudget._adapters``; the trackers' admission of each call) waits for the first
:class:`~tokenbudget.budgets.Budget` of the process: until then it is not on any
call's path.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from .._core import renew_after_fork

__all__ = ["budget_made", "budgets_exist", "when_budgets_exist"]

_lock = threading.Lock()
renew_after_fork(sys.modules[__name__], "_lock", threading.Lock)
_callbacks: list[Callable[[], object]] = []
#: Callbacks of owners (``when_budgets_exist(..., owner=)``), forgotten with their owner.
_owned: weakref.WeakKeyDictionary[Any, list[Callable[[Any], object]]]
_owned = weakref.WeakKeyDictionary()
_made = False


def when_budgets_exist(callback: Callable[..., object], owner: Any = None) -> None:
    """Call ``callback()`` once, when the first budget of this process is made (now if
    one was). It must be quick and must not raise: it runs inside ``Budget()``.

    With ``owner``, call ``callback(owner)`` instead, holding ``owner`` weakly: an owner
    gone before the first budget leaves nothing behind (a tracker per request, say).
    """
    with _lock:
        if not _made:
            if owner is None:
                _callbacks.append(callback)
            else:
                _owned.setdefault(owner, []).append(callback)
            return
    if owner is None:
        callback()
    else:
        callback(owner)


def budgets_exist() -> bool:
    """True once this process has made a budget (it stays true)."""
    return _made


def budget_made() -> None:
    """A budget was made: the waiting callbacks run, once (``Budget.__init__`` calls it)."""
    global _made
    if _made:
        return
    with _lock:
        if _made:
            return
        _made = True
        callbacks = list(_callbacks)
        owned = list(_owned.items())
        _callbacks.clear()
        _owned.clear()
    for callback in callbacks:
        callback()
    for owner, owner_callbacks in owned:
        for owned_callback in owner_callbacks:
            owned_callback(owner)
