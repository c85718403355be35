"""Recording the calls whose streams the garbage collector frees unclosed.

A stream dropped without being read to its end or closed is recorded when it
is collected (its wrapper's ``__del__``), and its budget holds released. A
finalizer runs wherever the collector interrupted the program: possibly while
that very thread holds one of tokenbudget's locks (the ledger's, a budget's),
where recording in place would deadlock. So the finalizer hands the exchange
to one daemon thread through a ``SimpleQueue`` (whose ``put`` is safe in
finalizers) and waits for it to be recorded, for at most
:data:`RECORD_WAIT` seconds: in the usual case the call is recorded by the
time the collection ends; in the rare case where the interrupted thread holds
a lock the record needs, that thread is delayed once, never blocked for good,
and the call is recorded as soon as the lock is free.

No event loop is involved: an async stream is recorded the same way, not by
a task on a loop that may never run it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from queue import SimpleQueue

from .._core import Exchange

__all__ = ["RECORD_WAIT", "finish_dropped"]

#: The longest a finalizer waits for its dropped call to be recorded, in seconds.
RECORD_WAIT = 5.0

_queue: SimpleQueue[tuple[Exchange, threading.Event]] = SimpleQueue()
_worker: threading.Thread | None = None
_worker_pid = 0


def finish_dropped(exchange: Exchange) -> None:
    """Record ``exchange``, whose stream is being collected, unless it is recorded already."""
    if exchange.finished:
        return
    if sys.is_finalizing():  # no threads to hand over to; nothing else runs either
        _finish(exchange)
        return
    done = threading.Event()
    _queue.put((exchange, done))
    if threading.current_thread() is _worker:
        return  # collected while the worker records another call: it takes this one next
    _ensure_worker()
    done.wait(RECORD_WAIT)


def _finish(exchange: Exchange) -> None:
    # Never let a finalizer's work raise into whatever code the collector interrupted.
    with contextlib.suppress(BaseException):
        exchange.finish()


def _work() -> None:
    while True:
        exchange, done = _queue.get()
        _finish(exchange)
        done.set()
        del exchange, done  # drop the last reference before waiting again


def _ensure_worker() -> None:
    global _worker, _worker_pid
    pid = os.getpid()
    if _worker is not None and _worker_pid == pid and _worker.is_alive():
        return
    # Two finalizers starting a worker each at once is harmless: both drain one queue.
    worker = threading.Thread(target=_work, name="tokenbudget-dropped-streams", daemon=True)
    worker.start()
    _worker, _worker_pid = worker, pid
