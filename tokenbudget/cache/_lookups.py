"""Single flight in a lookup: after a miss, wait for an identical call in flight, or lead it.

The steps are written once, as a generator that yields what to wait for
(:data:`Wait`) and returns what it found; ``CallCache.lookup`` drives it with
blocking waits, ``CallCache.alookup`` with awaits. Within a process the calls
meet in the cache's :class:`~._flight.Flights`; across processes, when the
backend is shared and has ``claim``/``unclaim`` (the disk backend), the leader
also takes a short per-key lock there, and other processes poll for it, pausing
:data:`FIRST_PAUSE` seconds at first, doubled up to :data:`LAST_PAUSE`.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TYPE_CHECKING

from ._entry import CacheEntry
from ._flight import Flight

if TYPE_CHECKING:
    from .._core import Exchange
    from ._cache import CallCache

__all__ = ["FIRST_PAUSE", "LAST_PAUSE", "Wait", "lead_or_wait"]

FIRST_PAUSE = 0.005  # polling another process's flight: first pause, doubled up to the last
LAST_PAUSE = 0.1

# What the lookup logic asks its driver to do: wait for a flight (at most so long),
# or pause (another process leads). Written once, driven by ``lookup`` and ``alookup``.
Wait = tuple[Flight, float] | float


def lead_or_wait(
    cache: CallCache, exchange: Exchange, key: str, asynchronous: bool
) -> Generator[Wait, None, tuple[CacheEntry | None, bool]]:
    """After a miss on ``key``: yields what to wait for; returns the entry found, and whether it
    came by waiting (a coalesced hit). No entry: ``exchange`` leads the call, or goes out alone."""
    flights = cache._flights
    deadline = time.monotonic() + cache.flight_timeout
    waited = False
    while True:
        flight = flights.join(key, exchange, cache.flight_timeout)
        if flight is None:
            break  # this call leads
        left = min(deadline - time.monotonic(), flights.remaining(flight))
        if left <= 0 or not flight.may_wait(asynchronous):
            return None, False
        yield flight, left
        waited = True
        entry = cache._entry(key)
        if entry is not None:
            return entry, True
    yield from _claim(cache, key, exchange, deadline)
    entry = cache._entry(key)  # stored by a call that ended just before this one led
    if entry is not None:
        cache.release(exchange)
        return entry, waited
    return None, False


def _claim(
    cache: CallCache, key: str, exchange: Exchange, deadline: float
) -> Generator[Wait, None, None]:
    """Lead across processes too, when the backend is shared: wait while another does."""
    claim = getattr(cache.backend, "claim", None)
    if claim is None:
        return
    pause = FIRST_PAUSE
    while not claim(key, cache.flight_timeout):
        if time.monotonic() >= deadline or cache._entry(key) is not None:
            return
        yield pause
        pause = min(pause * 2, LAST_PAUSE)
    found = cache._flights.led_by(exchange)
    if found is not None:
        found[1].claimed = True
