"""``StoreWriter``: puts call records into a store from a background thread.

Why a thread: recording happens on the caller's LLM call, and a store write
can be slow in ways the caller must never feel: an SQLite commit waits for
another process's lock (up to the busy timeout, seconds), a disk is full, a
Redis server is away. So the call only appends the record to an in-memory
queue (a microsecond, under the ledger's lock) and this thread writes batches
of queued records, each batch in one transaction. Readers see every write:
everything that reads the store through a tracker first calls :meth:`flush`,
which waits until the queue is written.

Failures: when a batch cannot be written because of the store (a full disk,
a file locked longer than the busy timeout, Redis away), one warning is logged,
the batch goes back to the front of the queue and is retried with a growing
pause (0.05 s up to 5 s); recovery is logged too. The records meanwhile stay
counted in the tracker's in-memory totals. When a batch fails because of what
is in it (a figure the store cannot hold, a script Redis refuses), it is split
in halves until the record(s) at fault are found: the others are written, and
each bad one is set aside in :attr:`rejected` (the most recent
:data:`MAX_REJECTED`) and logged, never retried, so it can never block the
records after it. At most ``max_pending`` records wait (100,000 by default);
past that the oldest are dropped from the queue (never from the totals),
counted in :attr:`dropped`, and an error is logged. :meth:`close` writes what
is left, waiting up to its timeout, then logs how many records it could not
write. A tracker closes its writer when it is closed, garbage collected, or at
interpreter exit.

Fork: in a forked child the writer starts afresh (a new thread, new locks, an
empty queue): the records queued in the parent stay the parent's to write, and
the child writes its own calls (its store reopens its connection, see
``SQLiteStore``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import deque

from .._core import after_fork_in_child
from .._data import CallRecord
from ._base import StoreError, UsageStore

__all__ = ["MAX_REJECTED", "StoreWriter"]

logger = logging.getLogger("tokenbudget")

DEFAULT_MAX_PENDING = 100_000
_BATCH = 500
_FIRST_PAUSE = 0.05
_MAX_PAUSE = 5.0
#: Records a writer keeps in :attr:`StoreWriter.rejected` (the most recent).
MAX_REJECTED = 1_000


def transient(error: BaseException) -> bool:
    """Whether ``error`` is the store's (retry the same records later) or the records' own.

    The store's: an OS error (disk, network), SQLite's operational errors (full,
    locked, I/O) and a :class:`StoreError` that says so. Anything else (an
    integer SQLite cannot hold, a value a Redis script refuses) is the records'.
    """
    if isinstance(error, StoreError):
        return error.transient
    return isinstance(error, (OSError, sqlite3.OperationalError))


class StoreWriter:
    """A queue of records and the daemon thread that writes it to ``store``."""

    def __init__(
        self,
        store: UsageStore,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        batch_size: int = _BATCH,
    ) -> None:
        self.store = store
        self.max_pending = max_pending
        self.batch_size = batch_size
        #: Records dropped because the queue was full while the store failed.
        self.dropped = 0
        #: The last write failure, or ``None`` once a write succeeds again.
        self.last_error: str | None = None
        #: Records the store refused for what is in them (most recent last), set aside.
        self.rejected: deque[CallRecord] = deque(maxlen=MAX_REJECTED)
        self._cond = threading.Condition()
        self._queue: deque[CallRecord] = deque()
        self._in_flight = 0
        self._closing = False
        self._abandon = False
        self._warned_closed = False
        self._pid = os.getpid()
        self._thread = self._start()
        after_fork_in_child(self._after_fork)

    def _start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="tokenbudget-store-writer", daemon=True)
        thread.start()
        return thread

    def _after_fork(self) -> None:
        """In a forked child: new lock and thread; the parent's queued records stay its own."""
        self._cond = threading.Condition()
        self._queue = deque()
        self._in_flight = 0
        self.dropped = 0
        self.last_error = None
        self._warned_closed = False
        self._pid = os.getpid()
        if not self._closing:
            self._thread = self._start()

    @property
    def pending(self) -> int:
        """Records put but not yet written."""
        with self._cond:
            return len(self._queue) + self._in_flight

    def put(self, record: CallRecord) -> None:
        """Queue ``record`` for writing; never blocks on the store, never raises."""
        with self._cond:
            if self._closing or os.getpid() != self._pid:
                self._warn_closed()
                return
            self._queue.append(record)
            if len(self._queue) > self.max_pending:
                self._queue.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 10_000 == 0:
                    logger.error(
                        "tokenbudget: %s has been failing (%s); %d unsaved call records"
                        " were dropped from the write queue (tracker totals still count them)",
                        self.store.url,
                        self.last_error,
                        self.dropped,
                    )
            self._cond.notify_all()

    def _warn_closed(self) -> None:
        if not self._warned_closed:
            self._warned_closed = True
            reason = "closed" if self._closing else "inherited across fork"
            logger.warning(
                "tokenbudget: the store writer for %s is %s; later calls are counted in"
                " memory only (make a new tracker in this process)",
                self.store.url,
                reason,
            )

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every record put so far is written.

        Returns False at once while the store is failing, and after ``timeout``
        seconds; the caller then reads without the records still queued.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                if self.last_error is not None or not self._thread.is_alive():
                    return False  # the store is failing: do not stall the reader
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self, timeout: float = 10.0) -> int:
        """Write what is queued (up to ``timeout`` seconds), stop; returns how many were not."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        with self._cond:
            self._abandon = True
            self._cond.notify_all()
        self._thread.join(1.0)
        unsaved = self.pending
        if unsaved:
            logger.error(
                "tokenbudget: %d call records could not be written to %s (%s)",
                unsaved,
                self.store.url,
                self.last_error,
            )
        return unsaved

    # -- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        pause = 0.0
        while True:
            batch = self._take()
            if batch is None:
                return
            try:
                self.store.append(batch)
            except Exception as exc:
                left = batch if transient(exc) else self._isolate(batch, exc)
                if left:
                    pause = min(max(pause * 2, _FIRST_PAUSE), _MAX_PAUSE)
                    if not self._retry_later(left, exc, pause):
                        return
                    continue
            pause = 0.0
            self._written()

    def _isolate(self, batch: list[CallRecord], error: Exception) -> list[CallRecord]:
        """Write what can be of a batch that failed for its content; returns what is left.

        Halves are written apart until each failing record is alone; a record
        failing alone for its content is set aside. What meets a store failure
        meanwhile is returned, to be retried with the rest of the queue.
        """
        if len(batch) == 1:
            self._reject(batch[0], error)
            return []
        left: list[CallRecord] = []
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            if left:
                left += half
                continue
            try:
                self.store.append(half)
            except Exception as exc:
                left += half if transient(exc) else self._isolate(half, exc)
        return left

    def _reject(self, record: CallRecord, error: Exception) -> None:
        self.rejected.append(record)
        logger.error(
            "tokenbudget: %s cannot take a call record (%s: %s); it was set aside (the"
            " writer's .rejected) and the calls after it are written; the tracker's"
            " totals count it. The record: %s %s at %s, usage %s",
            self.store.url,
            type(error).__name__,
            error,
            record.provider,
            record.model,
            record.timestamp.isoformat(),
            record.usage,
        )

    def _take(self) -> list[CallRecord] | None:
        with self._cond:
            while not self._queue and not self._closing:
                self._cond.wait()
            if not self._queue or self._abandon:
                return None
            count = min(self.batch_size, len(self._queue))
            batch = [self._queue.popleft() for _ in range(count)]
            self._in_flight = count
            return batch

    def _retry_later(self, batch: list[CallRecord], exc: Exception, pause: float) -> bool:
        with self._cond:
            self._queue.extendleft(reversed(batch))
            self._in_flight = 0
            if self.last_error is None:
                logger.warning(
                    "tokenbudget: could not write %d call records to %s (%s); they are kept"
                    " in memory and retried",
                    len(self._queue),
                    self.store.url,
                    exc,
                )
            self.last_error = str(exc)
            self._cond.notify_all()
            self._cond.wait(pause)
            return not self._abandon

    def _written(self) -> None:
        with self._cond:
            self._in_flight = 0
            if self.last_error is not None:
                logger.warning("tokenbudget: writing to %s works again", self.store.url)
                self.last_error = None
            self._cond.notify_all()
