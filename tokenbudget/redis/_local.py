"""What one process knows of a shared budget that Redis does not (yet).

:class:`LocalView` keeps, per window, the last state Redis returned and this
process's changes not yet in Redis: settlements waiting in the outbox, and
(``on_backend_error="allow_local"``) reservations admitted while Redis was
away. What the process sees is the sum of the two; it is what a budget reads
during an outage and what ``allow_local`` admits against.

:class:`Outbox` holds the settlements that could not be sent (bounded; the
oldest are dropped past ``max_pending``, with an error logged) and a daemon
thread that sends them once Redis answers again, pausing between attempts.

Fork: in a forked child both start afresh (new locks; no waiting settlement, no
local reservation): what the parent has not sent yet is the parent's to send,
so a settlement is never sent twice. What Redis showed last is kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .._core import after_fork_in_child
from .._data import CallRecord, UsageSummary
from ..budgets import Amount, BudgetState, Limits
from ..store import add_summaries, subtract_summaries, summarize

__all__ = ["Hold", "LocalView", "Outbox", "Settlement"]

logger = logging.getLogger("tokenbudget")

_ZERO = Amount()


@dataclass(frozen=True, slots=True)
class Hold:
    """A reservation: its id, and its member in Redis (``""``: held in this process only)."""

    id: str
    member: str


@dataclass(frozen=True, slots=True)
class Settlement:
    """A settle to send to Redis: release ``hold`` and count ``record``.

    ``held`` is what Redis holds for the call: zero for a hold made in this
    process only, which is released locally before the settlement is made.
    """

    window: str
    hold: Hold
    held: Amount
    record: CallRecord | None


@dataclass
class _Window:
    seen: BudgetState = field(default_factory=lambda: BudgetState(UsageSummary()))
    usage: UsageSummary = field(default_factory=UsageSummary)
    reserved: Amount = _ZERO

    @property
    def pending(self) -> bool:
        return self.usage.calls > 0 or self.reserved != _ZERO

    def state(self) -> BudgetState:
        if not self.pending:  # the usual case: nothing of this process is missing from Redis
            return self.seen
        total = self.seen.reserved + self.reserved
        reserved = Amount(max(total.cost_usd, Decimal(0)), max(total.tokens, 0))
        return BudgetState(add_summaries(self.seen.usage, self.usage), reserved)


def _usage(record: CallRecord | None) -> UsageSummary:
    return summarize([record]) if record is not None else UsageSummary()


class LocalView:
    """Per window: the last state from Redis plus this process's changes not in it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        """In a forked child: a new lock; the parent's unsent changes are not this process's."""
        self._lock = threading.Lock()
        self._windows = {name: _Window(seen=found.seen) for name, found in self._windows.items()}

    def _window(self, window: str) -> _Window:
        found = self._windows.get(window)
        if found is None:
            found = self._windows[window] = _Window()
            for key in [k for k, w in self._windows.items() if k < window and not w.pending]:
                del self._windows[key]
        return found

    def state(self, window: str) -> BudgetState:
        """What this process sees of ``window``."""
        with self._lock:
            return self._window(window).state()

    def observe(self, window: str, seen: BudgetState) -> BudgetState:
        """Take ``seen`` (from Redis) as the window's state; returns what the process sees."""
        with self._lock:
            account = self._window(window)
            account.seen = seen
            return account.state()

    def observe_change(
        self, window: str, before: BudgetState, after: BudgetState
    ) -> tuple[BudgetState, BudgetState]:
        """Like :meth:`observe`, for both states of a settlement Redis applied."""
        with self._lock:
            account = self._window(window)
            account.seen = before
            seen_before = account.state()
            account.seen = after
            return seen_before, account.state()

    def reserve(
        self, window: str, amount: Amount, limits: Limits | None
    ) -> tuple[bool, BudgetState]:
        """Hold ``amount`` here if it fits what this process sees (``allow_local``)."""
        with self._lock:
            account = self._window(window)
            state = account.state()
            if limits is not None and not state.fits(amount, limits):
                return False, state
            account.reserved += amount
            return True, account.state()

    def release(self, window: str, held: Amount) -> tuple[BudgetState, BudgetState]:
        """Give back a reservation held in this process only (``allow_local``)."""
        with self._lock:
            account = self._window(window)
            before = account.state()
            account.reserved -= held
            return before, account.state()

    def defer(self, item: Settlement) -> tuple[BudgetState, BudgetState]:
        """Count a settlement that waits for Redis: its record spent, its Redis hold released."""
        with self._lock:
            account = self._window(item.window)
            before = account.state()
            account.usage = add_summaries(account.usage, _usage(item.record))
            account.reserved -= item.held
            return before, account.state()

    def sent(self, item: Settlement, seen: BudgetState) -> None:
        """A deferred settlement reached Redis, whose state is now ``seen``."""
        with self._lock:
            account = self._window(item.window)
            account.usage = subtract_summaries(account.usage, _usage(item.record))
            account.reserved += item.held
            account.seen = seen

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._windows.clear()


#: Sends settlements, all or none; raises on failure (they are then kept and retried).
Sender = Callable[[Sequence[Settlement]], None]

_BATCH = 200
_MAX_PAUSE = 5.0


class Outbox:
    """Settlements waiting for Redis, and the thread that sends them when it is back."""

    def __init__(self, send: Sender, *, max_pending: int, pause: float, name: str) -> None:
        self._send = send
        self.max_pending = max_pending
        self._pause = pause
        self._name = name
        #: Settlements dropped because the outbox was full.
        self.dropped = 0
        self._cond = threading.Condition()
        self._items: deque[Settlement] = deque()
        self._sending = 0
        self._send_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        """In a forked child: new locks, no thread, nothing waiting (the parent sends its own)."""
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._items = deque()
        self._sending = 0
        self._thread = None
        self.dropped = 0

    def __len__(self) -> int:
        """Settlements not yet in Redis (being sent included)."""
        with self._cond:
            return len(self._items) + self._sending

    def put(self, item: Settlement) -> None:
        """Keep ``item`` until it can be sent; wakes the sending thread."""
        with self._cond:
            self._items.append(item)
            if len(self._items) > self.max_pending:
                self._items.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 10_000 == 0:
                    logger.error(
                        "tokenbudget: %s: %d budget settlements dropped (outbox full, Redis away)",
                        self._name,
                        self.dropped,
                    )
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="tokenbudget-redis-outbox", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def send_now(self) -> None:
        """Send everything waiting, in this thread; raises (keeping the rest) on failure."""
        with self._send_lock:
            while True:
                with self._cond:
                    batch = [self._items.popleft() for _ in range(min(_BATCH, len(self._items)))]
                    self._sending = len(batch)
                if not batch:
                    return
                try:
                    self._send(batch)
                except BaseException:
                    with self._cond:
                        self._items.extendleft(reversed(batch))
                        self._sending = 0
                    raise
                with self._cond:
                    self._sending = 0

    def flush(self, timeout: float) -> bool:
        """Try to send everything within ``timeout`` seconds; True when nothing waits."""
        deadline = time.monotonic() + timeout
        while self._items:
            try:
                self.send_now()
            except Exception:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(self._pause, left))
        return True

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread after one last attempt; logs what could not be sent."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if not self.flush(timeout):
            logger.error(
                "tokenbudget: %s: %d budget settlements could not be sent to Redis",
                self._name,
                len(self),
            )

    def _run(self) -> None:
        pause = self._pause
        while True:
            with self._cond:
                if self._closed or not self._items:
                    return
            try:
                self.send_now()
            except Exception:
                with self._cond:
                    self._cond.wait(pause)
                pause = min(pause * 2, _MAX_PAUSE)
            else:
                pause = self._pause
