"""Telling whoever asks that this process has a budget now, once.

Work that only a budget can need (the tracked clients' early refusal, see
``tokenbudget._adapters``) waits for the first :class:`~tokenbudget.budgets.Budget`
of the process: until then it is not on any call's path.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from .._core import renew_after_fork

__all__ = ["budget_made", "budgets_exist", "when_budgets_exist"]

_lock = threading.Lock()
renew_after_fork(sys.modules[__name__], "_lock", threading.Lock)
_callbacks: list[Callable[[], object]] = []
_made = False


def when_budgets_exist(callback: Callable[[], object]) -> None:
    """Call ``callback()`` once, when the first budget of this process is made (now if
    one was). It must be quick and must not raise: it runs inside ``Budget()``."""
    with _lock:
        if not _made:
            _callbacks.append(callback)
            return
    callback()


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
        _callbacks.clear()
    for callback in callbacks:
        callback()
