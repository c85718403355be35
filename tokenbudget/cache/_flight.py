"""Single flight in one process: identical calls in flight wait for the first one.

When several threads or asyncio tasks miss the cache on the same key at once,
the first becomes the *leader* of a :class:`Flight` and calls the provider;
the others wait until it ends (its answer stored, or not), then look again. A
wait is bounded: a flight expires ``timeout`` seconds after it started, after
which waiters go out themselves, so a leader that hangs, or a stream its
caller holds open without reading, costs at most that delay.

A caller never waits for a flight led from its own thread (or, in asyncio,
its own task): the leader there could only end after the caller returns.
Locks are re-entrant: a flight may end from a garbage collector's finalizer
(a dropped stream is recorded then) while this thread is inside one.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Flight", "Flights"]


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop in this thread
        return None


class Flight:
    """One call in flight for a key: who leads it, until when, and who waits."""

    __slots__ = ("_done", "_futures", "_lock", "claimed", "deadline", "leader", "task", "thread")

    def __init__(self, leader: object, deadline: float) -> None:
        self.leader = leader
        self.deadline = deadline
        self.thread = threading.get_ident()
        self.task = _current_task()
        #: True when the leader also holds the backend's lock across processes.
        self.claimed = False
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def done(self) -> bool:
        """True once the leader's call ended."""
        return self._done.is_set()

    def may_wait(self, asynchronous: bool) -> bool:
        """Whether the calling thread (or task) may wait for this flight without deadlock."""
        if self.thread != threading.get_ident():
            return True
        # Same thread: only an asyncio task waiting for another task's flight.
        return asynchronous and self.task is not None and self.task is not _current_task()

    def end(self) -> None:
        """Wake every waiter, in every thread and event loop."""
        with self._lock:
            self._done.set()
            futures, self._futures = self._futures, []
        for loop, future in futures:
            # A closed loop raises RuntimeError: nobody is waiting there any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, future)

    def wait(self, timeout: float) -> None:
        """Block this thread until the flight ends or ``timeout`` seconds pass."""
        self._done.wait(max(timeout, 0.0))

    async def wait_async(self, timeout: float) -> None:
        """Await the end of the flight, at most ``timeout`` seconds, without blocking the loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._done.is_set():
                return
            self._futures.append((loop, future))
        try:
            await asyncio.wait_for(future, max(timeout, 0.0))
        except asyncio.TimeoutError:
            pass
        finally:
            with self._lock:
                if (loop, future) in self._futures:
                    self._futures.remove((loop, future))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Flights:
    """The flights of one cache in this process, by key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._flights: dict[str, Flight] = {}
        self._keys: dict[int, str] = {}  # id(leader) -> key, for the flights in progress
        #: How many lookups are waiting for a flight right now.
        self.waiting = 0

    def join(self, key: str, caller: object, timeout: float) -> Flight | None:
        """``None`` when ``caller`` now leads the flight for ``key``; else the flight to wait for.

        A flight that ended or expired is replaced: its leader no longer counts.
        """
        now = self._clock()
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                if not flight.done and now < flight.deadline:
                    return flight
                self._keys.pop(id(flight.leader), None)  # expired: its leader leads no more
            self._flights[key] = Flight(caller, now + timeout)
            self._keys[id(caller)] = key
            return None

    def in_flight(self, key: str) -> bool:
        """True while a call for ``key`` is in flight (not ended, not expired)."""
        flight = self._flights.get(key)
        return flight is not None and not flight.done and self._clock() < flight.deadline

    def led_by(self, caller: object) -> tuple[str, Flight] | None:
        """The key and flight ``caller`` leads, if any."""
        key = self._keys.get(id(caller))
        flight = self._flights.get(key) if key is not None else None
        if flight is None or flight.leader is not caller:
            return None
        return key, flight  # type: ignore[return-value]

    def end(self, caller: object) -> tuple[str, Flight] | None:
        """End the flight ``caller`` leads, if any, waking its waiters; its key and flight."""
        with self._lock:
            found = self.led_by(caller)
            if found is None:
                return None
            del self._flights[found[0]]
            del self._keys[id(caller)]
        found[1].end()
        return found

    def remaining(self, flight: Flight) -> float:
        """Seconds until ``flight`` expires."""
        return flight.deadline - self._clock()

    def count_waiting(self, change: int) -> None:
        """Note a lookup starting (+1) or stopping (-1) to wait."""
        with self._lock:
            self.waiting += change

    def wait(self, flight: Flight, timeout: float) -> None:
        """Block this thread until ``flight`` ends or ``timeout`` seconds pass (counted waiting)."""
        self.count_waiting(1)
        try:
            flight.wait(timeout)
        finally:
            self.count_waiting(-1)

    async def wait_async(self, flight: Flight, timeout: float) -> None:
        """:meth:`wait` for asyncio: awaits without blocking the loop."""
        self.count_waiting(1)
        try:
            await flight.wait_async(timeout)
        finally:
            self.count_waiting(-1)

    def after_fork(self) -> None:
        """In a forked child: no call of the parent is in flight here."""
        self._lock = threading.RLock()
        self._flights = {}
        self._keys = {}
        self.waiting = 0
