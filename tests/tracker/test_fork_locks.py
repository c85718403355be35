"""A fork while another thread holds one of tokenbudget's shared locks leaves the child working.

A forked child has only the thread that forked: a lock another thread held at
that moment stays held in the child forever. Every process-wide lock (price
books, their layers and registry, the provider registry, tiktoken's encodings,
the default tracker, patching) is replaced in the child. Private names: the
only way to be holding one of those locks at the moment of the fork is to take
it, so each is reached by its attribute and tested alone.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tokenbudget import TokenTracker, calculate_cost
from tokenbudget.pricing import PriceBook
from tokenbudget.providers import default_registry

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform"),
    # Python 3.12+ warns that forking a threaded process may deadlock: what is tested here.
    pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning"),
]


def _holders() -> dict[str, Callable[[], Any]]:
    """Each shared lock, by a name for the test id."""
    from tokenbudget._adapters import _families
    from tokenbudget._tracker import _patching, _tracker
    from tokenbudget.pricing import _book, _registry
    from tokenbudget.providers import _tokens

    book = PriceBook.default()
    tracker = TokenTracker()
    return {
        "price book": lambda: book._lock,
        "price layers": lambda: book._layers._lock,
        "unpriced log": lambda: book._unpriced._lock,
        "price registry": lambda: _registry.REGISTRY._lock,
        "default book": lambda: _book.PriceBook._default_lock,
        "provider registry": lambda: default_registry._lock,
        "encodings": lambda: _tokens._lock,
        "tracker prices": lambda: tracker._prices._lock,
        "default tracker": lambda: _tracker._default_lock,
        "patching": lambda: _patching._lock,
        "families": lambda: _families._lock,
    }


@contextmanager
def _held_by_another_thread(lock: Any) -> Iterator[None]:
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


def _exit_code(pid: int, timeout: float = 20.0) -> int | None:
    """The child's exit code, or ``None`` (and the child killed) if it is stuck."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


@pytest.mark.parametrize("name", list(_holders()))
def test_a_lock_held_by_another_thread_at_fork_is_free_in_the_child(name: str) -> None:
    lock_of = _holders()[name]
    with _held_by_another_thread(lock_of()):
        pid = os.fork()
        if pid == 0:  # the child: its own lock is free, whatever the parent's thread does
            code = 0 if lock_of().acquire(timeout=5) else 1
            os._exit(code)
    assert _exit_code(pid) == 0, f"the {name} lock stayed held in the child"


def test_a_child_forked_while_a_price_is_looked_up_can_price_calls() -> None:
    book = PriceBook.default()
    with _held_by_another_thread(book._lock):
        pid = os.fork()
        if pid == 0:
            try:
                cost = calculate_cost("gpt-4o", 1000, 100)
                os._exit(0 if cost > 0 else 2)
            except BaseException:
                os._exit(3)
    assert _exit_code(pid) == 0, "the child could not price a call"
