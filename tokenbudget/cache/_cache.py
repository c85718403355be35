"""``CallCache``: the response cache the exchange consults, over any storage backend.

It implements :class:`tokenbudget._core.ResponseCache`. The exchange asks it
``lookup(exchange)`` before a call is sent and ``store(exchange, answer)`` after
a complete 2xx answer; replaying a hit through the SDK, and recording it as a
``cached`` call with zero cost, is the exchange's and transport's job. This
class decides *which* calls are cached, under which key, for how long, and
counts what happened. Storage is a :class:`CacheBackend` (``_backend``: memory
or disk); the counts are kept in ``_stats``; when a lookup misses, waiting for
an identical call in flight or leading it is ``_lookups``' job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from .._core import StoredResponse, after_fork_in_child, replay_pieces
from ._backend import CacheBackend
from ._control import cache_mode
from ._entry import CacheEntry, safe_headers
from ._flight import Flights
from ._key import CacheKeyer
from ._lookups import Wait, lead_or_wait
from ._memory import MemoryBackend
from ._stats import CacheCounters, CacheStats

if TYPE_CHECKING:
    from .._core import Exchange

__all__ = ["DEFAULT_FLIGHT_TIMEOUT", "CacheBackend", "CacheStats", "CallCache"]

#: Seconds a call waits at most for an identical one in flight before going out itself.
DEFAULT_FLIGHT_TIMEOUT = 30.0


def _rewritten(exchange: Exchange) -> bool:
    """True when a budget changed the request (e.g. lowered ``max_tokens``) before sending.

    The answer is then to another request than the one the key describes.
    """
    overrides = exchange.body_overrides
    if not overrides:
        return False
    document = exchange.request.json
    if not isinstance(document, Mapping):
        return True
    return any(name not in document or document[name] != value for name, value in overrides.items())


def _seconds(ttl: float | timedelta | None) -> float | None:
    if ttl is None:
        return None
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
    if seconds <= 0:
        raise ValueError(f"cache ttl must be positive, not {ttl!r}")
    return seconds


class CallCache:
    """Caches the answers to billable LLM calls in ``backend``.

    Every tracked, billable ``POST`` is cached by default, sampled outputs
    (``temperature > 0``) included: an identical request gets the first
    answer back. Use ``no_cache()`` for calls that must be fresh, or keep the
    cache off for such clients.

    Args:
        backend: where entries live (:class:`MemoryBackend`, :class:`DiskBackend`...).
        ttl: seconds (or a ``timedelta``) an answer is served for; ``None``: forever.
        ignore_fields: JSON body fields that do not change the answer
            (``"user"``, ``"metadata"``, ``"metadata.user_id"``).
        vary_headers: more request headers that part answers (a tenant id, a
            gateway route), besides the built-in ones (``anthropic-version``...) and
            every credential-bearing header (always part of the key); their values
            are hashed with the backend's secret, never stored.
        clock: seconds since the epoch; tests inject one to expire entries.
        per_account: ``False`` shares answers between accounts: keys leave out the
            credential and the account headers (for recordings replayed with
            another API key; see :class:`CacheKeyer`).
        single_flight: identical calls missing at once make one provider call:
            the others (threads, asyncio tasks, and with a disk backend other
            processes) wait for its answer. ``False``: each goes out.
        flight_timeout: seconds a call waits at most for an identical one in
            flight (a leader that hangs or a stream held unread), then goes out.
    """

    def __init__(
        self,
        backend: CacheBackend,
        *,
        ttl: float | timedelta | None = None,
        ignore_fields: Iterable[str] = (),
        vary_headers: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
        per_account: bool = True,
        single_flight: bool = True,
        flight_timeout: float = DEFAULT_FLIGHT_TIMEOUT,
    ) -> None:
        self.backend = backend
        self.ttl = _seconds(ttl)
        secret = getattr(backend, "secret", None)
        self.keyer = CacheKeyer(
            secret if isinstance(secret, bytes) else b"",
            ignore_fields=ignore_fields,
            vary_headers=vary_headers,
            per_account=per_account,
        )
        self._clock = clock
        # A backend whose entries live in this process keeps the replay parts too.
        self._in_memory = isinstance(backend, MemoryBackend)
        if flight_timeout <= 0:
            raise ValueError(f"flight_timeout must be positive, not {flight_timeout!r}")
        self.single_flight = single_flight
        self.flight_timeout = float(flight_timeout)
        self._flights = Flights()
        self._counters = CacheCounters()
        after_fork_in_child(self._after_fork)

    def __repr__(self) -> str:
        return f"<CallCache {self.backend!r} ttl={self.ttl}>"

    # -- the exchange's hooks ------------------------------------------------------

    def lookup(self, exchange: Exchange) -> StoredResponse | None:
        """The stored answer to ``exchange``'s request; on a miss, the key to store under.

        With single flight, a miss while an identical call is in flight blocks
        this thread until that call ends (at most ``flight_timeout`` seconds).
        """
        first = self._first(exchange)
        if not isinstance(first, str):  # a hit, or nothing to look up: the usual cases
            return first
        steps = self._after_miss(exchange, first, asynchronous=False)
        try:
            wait = next(steps)
            while True:
                if isinstance(wait, tuple):
                    self._flights.wait(*wait)
                else:
                    time.sleep(wait)
                wait = next(steps)
        except StopIteration as done:
            answer: StoredResponse | None = done.value
            return answer
        except BaseException:  # interrupted or cancelled: lead nothing any more
            self.release(exchange)
            raise

    async def alookup(self, exchange: Exchange) -> StoredResponse | None:
        """:meth:`lookup` for asyncio: waits for a call in flight without blocking the loop."""
        first = self._first(exchange)
        if not isinstance(first, str):
            return first
        steps = self._after_miss(exchange, first, asynchronous=True)
        try:
            wait = next(steps)
            while True:
                if isinstance(wait, tuple):
                    await self._flights.wait_async(*wait)
                else:
                    await asyncio.sleep(wait)
                wait = next(steps)
        except StopIteration as done:
            answer: StoredResponse | None = done.value
            return answer
        except BaseException:  # interrupted or cancelled: lead nothing any more
            self.release(exchange)
            raise

    def may_answer(self, exchange: Exchange) -> bool:
        """True when :meth:`lookup` might answer ``exchange`` without the provider: a
        stored answer, or an identical call in flight to wait for. Changes nothing (no
        counters, no flight led, no key set); trackers ask it before refusing a call
        early, since a cached answer costs nothing and is never refused."""
        if not self.accepts(exchange) or cache_mode(exchange.owner) != "use":
            return False
        key = self.key(exchange)
        entry = self.backend.get(key)
        if entry is not None and not entry.expired(self._clock()):
            return True
        return self.single_flight and self._flights.in_flight(key)

    def release(self, exchange: Exchange) -> None:
        """``exchange`` is over (recorded, stored or refused): calls waiting for it look again."""
        ended = self._flights.end(exchange)
        if ended is not None and ended[1].claimed:
            unclaim = getattr(self.backend, "unclaim", None)
            if unclaim is not None:
                unclaim(ended[0])

    def _first(self, exchange: Exchange) -> StoredResponse | str | None:
        """The lookup up to the backend's answer, with no generator or lock of its own:
        the stored answer (a hit), ``None`` when the call is not looked up (not cached,
        bypassed, refreshed), or the key of a miss, for :meth:`_after_miss`."""
        if not self.accepts(exchange):
            return None
        mode = cache_mode(exchange.owner)
        if mode == "bypass":
            self._counters.count("bypassed")
            return None
        key = self.key(exchange)
        if mode == "refresh":
            self._counters.count("refreshed")
            exchange.cache_key = key
            return None
        entry = self._entry(key)
        if entry is not None:
            self._counters.hit(entry.input_tokens + entry.output_tokens)  # (``entry.tokens``)
            return entry.response
        return key

    def _after_miss(
        self, exchange: Exchange, key: str, asynchronous: bool
    ) -> Generator[Wait, None, StoredResponse | None]:
        """The lookup after a miss, written once: yields what to wait for (an identical
        call in flight), returns the answer it brought or ``None`` (this call goes out)."""
        if not self.single_flight:
            self._miss(exchange, key)
            return None
        entry, coalesced = yield from lead_or_wait(self, exchange, key, asynchronous)
        if entry is not None:
            self._counters.hit(entry.tokens, coalesced)
            return entry.response
        self._miss(exchange, key)
        return None

    def _entry(self, key: str) -> CacheEntry | None:
        entry = self.backend.get(key)
        if entry is not None and entry.expires_at is not None and entry.expired(self._clock()):
            self.backend.delete(key)
            return None
        return entry

    def _miss(self, exchange: Exchange, key: str) -> None:
        self._counters.count("misses")
        exchange.cache_key = key

    def store(self, exchange: Exchange, response: StoredResponse) -> None:
        """Keep a complete 2xx answer under ``exchange.cache_key``, safe headers only."""
        key = exchange.cache_key
        if key is None or exchange.cached or _rewritten(exchange):
            return
        if not 200 <= response.status_code < 300:
            return
        now = self._clock()
        record = exchange.record
        usage = record.usage if record is not None else None
        kept = StoredResponse(
            status_code=response.status_code,
            headers=safe_headers(response.headers),
            body=response.body,
            stream=response.stream,
        )
        if self._in_memory:
            kept = self._ready(exchange, kept)
        entry = CacheEntry(
            response=kept,
            created_at=now,
            expires_at=None if self.ttl is None else now + self.ttl,
            provider=exchange.endpoint.provider,
            model=record.model if record is not None else exchange.endpoint.request_model,
            input_tokens=usage.input_tokens if usage is not None else 0,
            output_tokens=usage.output_tokens if usage is not None else 0,
        )
        self.backend.set(key, entry, self.ttl)
        self._counters.count("stores")

    def _ready(self, exchange: Exchange, kept: StoredResponse) -> StoredResponse:
        """``kept`` with its replay made once, here, rather than per hit (kept in this
        process): the body cut into the pieces a hit hands over and, when the answer
        reads whole and plain, what a hit's reading learns (``StoredResponse.replay``).

        A stream's replay hides the usage chunk the tracker asked for, exactly when
        the hit's own request did not ask for it. Identical requests decide that the
        same way, and the key holds the whole request, so a hit decides it as the
        stored call did; unless ``ignore_fields`` may leave out the very field that
        decides it: such a cache's stream hits ask their provider again (``recheck``)
        and are read as before when it decides otherwise.
        """
        ready = replace(kept, events=replay_pieces(kept))
        rehearse = getattr(exchange, "rehearse_replay", None)
        if rehearse is None:  # a stand-in exchange (tests, tools)
            return ready
        return replace(ready, replay=rehearse(ready, self.keyer.ignores_fields))

    # -- policy --------------------------------------------------------------------

    def accepts(self, exchange: Exchange) -> bool:
        """True for the calls this cache answers: billable ``POST`` requests whose
        provider deems their answer replayable (see ``Provider.cacheable``)."""
        endpoint = exchange.endpoint
        return (
            endpoint.billable
            and exchange.request.method == "POST"
            and endpoint.handler.cacheable(endpoint, exchange.request)
        )

    def key(self, exchange: Exchange) -> str:
        """The key of ``exchange``'s request.

        The variant records what the tracker does to a request before sending
        it: a stream stored with usage injected must be replayed with the same
        event filter, so trackers that differ there never share streams.
        """
        streamed_usage = exchange.endpoint.stream and exchange.inject_usage
        return self.keyer.key(exchange.request, variant="usage" if streamed_usage else "")

    # -- management ----------------------------------------------------------------

    def stats(self, saved_cost_usd: Decimal = Decimal(0)) -> CacheStats:
        """The counters so far, with ``saved_cost_usd`` from the tracker's records."""
        try:
            entries = len(self.backend)
        except Exception:
            entries = 0
        return self._counters.stats(entries, saved_cost_usd, self._flights.waiting)

    def clear(self) -> None:
        """Forget every stored answer (the counters are kept)."""
        self.backend.clear()

    def close(self) -> None:
        """Release the backend's resources (files, connections), if it has any."""
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()

    def _after_fork(self) -> None:
        """In a forked child: fresh locks, and none of the parent's calls in flight."""
        self._counters.after_fork()
        self._flights.after_fork()
