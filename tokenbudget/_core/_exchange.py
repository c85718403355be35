"""One tracked request/response, independent of any HTTP library (sans-IO).

An adapter (``tokenbudget._adapters``) drives an :class:`Exchange` through its life:

1. ``lookup_cache()`` first: a stored answer to replay instead of sending;
2. ``admit()`` on a miss, before a byte is sent: the budgets hold the call, or
   refuse it by raising;
3. ``request_body()``: the body to send (the provider may ask for usage the
   caller did not ask for, a budget may lower the output ceiling);
4. ``start_response(status, headers)`` when the response head arrives;
5. ``feed(chunk)`` for every raw body chunk, returning the bytes the caller gets
   (the chunk itself, unless an event filter hides something);
6. ``end_of_body()`` when the body is exhausted, returning any held-back bytes;
   a caller closing the stream while :meth:`~Exchange.awaits_tail` (the content
   is over, the usage report still to come) is first read on for a short while;
7. ``finish(error)`` when the response closes, normally or not: records the call
   exactly once, settles its budgets and hands a complete answer to the cache.

Steps 4-6 are the :class:`~._observer.ResponseObserver`'s. Everything the
exchange needs from the rest of the library comes through its
:class:`~._ports.Ports`. No method lets an exception of tokenbudget's own
escape into the user's call: a failure is logged once, the call is recorded
with what is known, and the bytes pass through untouched. The only exceptions
raised on purpose are the budgets' refusals.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime, timezone
from logging import DEBUG
from time import perf_counter
from types import MappingProxyType
from typing import Any

from .._data import CallRecord, TokenBudgetError
from ._endpoint import Endpoint, Observation
from ._log import log_call, logger, warn_once
from ._observer import Mode, ResponseObserver
from ._ports import CallGuard, Ports, StoredResponse
from ._record import build_record, fallback_record
from ._replay import Replay, ReplayReader, rehearse
from ._request import RequestView

__all__ = ["SENDING", "Exchange"]

_NO_TAGS: Mapping[str, str] = MappingProxyType({})
_now = datetime.now
_UTC = timezone.utc

#: The exchange whose request a tracking transport is sending in this context
#: (set around the inner transport's call). A second tracking transport below it
#: sees the same HTTP call: its budgets skip those that already hold it.
SENDING: ContextVar[Exchange | None] = ContextVar("tokenbudget_sending", default=None)

#: The most bytes a closing replayed stream reads on for its usage report (as
#: ``_adapters._tail.TAIL_BYTES`` does for a network stream).
_TAIL_BYTES = 64 * 1024


class Exchange(ResponseObserver):
    """The life of one tracked call; see the module docstring for the protocol.

    Args:
        ports: what the exchange asks of the library around it.
        endpoint: what the provider says the request is.
        request: the request, as the adapter sees it.
        owner: the object that began the call (a ``TokenTracker``); budgets and
            the cache compare it, the exchange never reads it.
        tags: the labels recorded with the call.
        inject_usage: let the provider ask for usage the caller did not ask for.
    """

    __slots__ = (
        "_overrides",
        "cached",
        "finished",
        "guards",
        "inject_usage",
        "owner",
        "ports",
        "record",
        "request",
        "started",
        "tags",
        "timestamp",
    )

    def __init__(
        self,
        ports: Ports,
        endpoint: Endpoint,
        request: RequestView,
        owner: object = None,
        tags: Mapping[str, str] = _NO_TAGS,
        inject_usage: bool = True,
    ) -> None:
        ResponseObserver.__init__(self, endpoint)  # not super(): no proxy object per call
        self.ports = ports
        self.request = request
        self.owner = owner
        self.tags = tags
        self.inject_usage = inject_usage
        #: When the call started (UTC), and its ``perf_counter`` for the latency.
        self.timestamp = _now(_UTC)
        self.started = perf_counter()
        # body_overrides, made when first asked for: most calls have no budget to set any.
        self._overrides: dict[str, Any] | None = None
        #: Budgets holding this call (see ``_ports``); settled when it is recorded.
        self.guards: Sequence[CallGuard] = ()
        #: True when the answer is replayed from the cache.
        self.cached = False
        #: True once :meth:`finish` has recorded the call.
        self.finished = False
        self.record: CallRecord | None = None

    @property
    def body_overrides(self) -> dict[str, Any]:
        """Top-level JSON fields to set in the request body (e.g. a clamped max_tokens)."""
        overrides = self._overrides
        if overrides is None:
            overrides = self._overrides = {}
        return overrides

    @body_overrides.setter
    def body_overrides(self, overrides: dict[str, Any]) -> None:
        self._overrides = overrides

    def __repr__(self) -> str:
        return f"<Exchange {self.endpoint.provider} {self.endpoint.kind} {self.request!r}>"

    # -- request -----------------------------------------------------------------

    def lookup_cache(self) -> StoredResponse | None:
        """A stored answer to replay instead of sending, when there is a cache."""
        cache = self.ports.cache
        if cache is None:
            return None
        try:
            answer = cache.lookup(self)
        except Exception:
            self._lookup_failed()
            return None
        if answer is not None:  # (``_looked_up``, written out: a hit's usual path)
            self.cached = True
            self.cache_key = None
        return answer

    async def lookup_cache_async(self) -> StoredResponse | None:
        """:meth:`lookup_cache` for async transports: a cache with ``alookup`` waits
        for an identical call in flight without blocking the event loop."""
        alookup = getattr(self.ports.cache, "alookup", None)
        if alookup is None:
            return self.lookup_cache()
        try:
            answer = await alookup(self)
        except Exception:
            self._lookup_failed()
            return None
        return self._looked_up(answer)

    def _looked_up(self, answer: StoredResponse | None) -> StoredResponse | None:
        if answer is not None:
            self.cached = True
            self.cache_key = None
        return answer

    def _lookup_failed(self) -> None:
        self.cache_key = None
        warn_once("cache-lookup", "tokenbudget: cache lookup failed; calling the provider")
        logger.debug("cache lookup failure", exc_info=True)

    def _release_cache(self) -> None:
        """Tell a cache with ``release`` that this call is over: identical calls
        waiting for its answer go on (read it, or go out themselves)."""
        release = getattr(self.ports.cache, "release", None)
        if release is not None:
            try:
                release(self)
            except Exception:
                self._report("cache release")

    def admit(self) -> None:
        """Ask every budget covering this call to let it through; may raise a budget error."""
        admit = self.ports.admit
        if admit is None:  # nothing can hold a call yet
            return
        try:
            guards = admit(self)
        except TokenBudgetError:
            self._release_cache()  # refused: never sent, never recorded
            raise
        except Exception:
            self._report("admit")
            return
        if guards:
            self.guards = guards
            self._watchers = tuple(guard for guard in guards if guard.watches_stream)

    def request_body(self) -> bytes | None:
        """The body to send instead of the caller's, or ``None`` to send it unchanged.

        Only a stream (usage to ask for) or a budget (a clamp) changes a body.
        """
        overrides = self._overrides
        if not (self.endpoint.stream or overrides):
            return None
        body: bytes | None = None
        if self.inject_usage:
            try:
                body = self.endpoint.handler.prepare(self.endpoint, self.request)
            except Exception:
                self._report("prepare")
        if overrides:
            try:
                document = json.loads(body) if body is not None else dict(self.request.json)
                document.update(overrides)
                body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
            except Exception:
                self._report("body overrides")
        return body

    def _report(self, where: str) -> None:
        """Our own failure outside the reading (a port, a budget): logged once; reading goes on.

        Only a failure to read the response makes the call's usage estimated.
        """
        endpoint = self.endpoint
        warn_once(
            f"{endpoint.provider}:{endpoint.kind}:{where}",
            "tokenbudget: %s failed on a %s %s call; the call goes on and is recorded",
            where,
            endpoint.provider,
            endpoint.kind,
            exc_info=True,
        )

    def _check_progress(self) -> None:
        for guard in self._watchers:
            try:
                guard.on_progress(self)
            except TokenBudgetError:
                raise
            except Exception:
                self._report("budget progress")

    # -- ending ------------------------------------------------------------------

    def awaits_tail(self) -> bool:
        """True when the answer's content is over and only its usage report is still to come.

        The caller closing the stream now would cut off just that report: the
        adapter reads on for a bounded time and size before :meth:`finish`.
        """
        if self.finished or self._ended or self._broken or self._mode is not Mode.SSE:
            return False
        observation = self.observation
        return observation is not None and observation.final and not observation.complete

    # -- settle ------------------------------------------------------------------

    def finish(self, error: BaseException | None = None) -> CallRecord | None:
        """Record the call, once; later calls return the same record."""
        if self.finished:
            return self.record
        self.finished = True
        try:
            record = build_record(self, error)
        except Exception:
            self._fail("record")
            record = fallback_record(self, error)
        self.record = record
        if logger.isEnabledFor(DEBUG):
            try:
                log_call(record)
            except Exception:
                self._report("debug log")
        try:
            self.ports.record(record)
        except Exception:
            self._report("ledger")
        if self.guards or self.ports.cache is not None:
            self._settle(record)
        return record

    def _settle(self, record: CallRecord) -> None:
        """After the record: the budgets holding the call settle, the cache stores and releases
        (a call it answered has nothing to release)."""
        for guard in self.guards:
            try:
                guard.settle(record)
            except Exception:
                self._report("budget settle")
        if self.cache_key is not None and record.succeeded:
            self._store()
        if self.ports.cache is not None and not self.cached:
            # (A hit leads no flight: its lookup released any it led before it found the answer.)
            self._release_cache()

    def _store(self) -> None:
        """Hand a complete 2xx answer to the cache; abandoned or failed ones are not kept."""
        cache = self.ports.cache
        answer = self.complete_answer()
        if cache is None or answer is None:
            return
        try:
            cache.store(self, answer)
        except Exception:
            warn_once("cache-store", "tokenbudget: storing an answer in the cache failed")
            logger.debug("cache store failure", exc_info=True)

    # -- cache hits read once (``_replay``) ---------------------------------------

    def rehearse_replay(self, answer: StoredResponse, recheck: bool = False) -> Replay | None:
        """What every hit of ``answer`` (this call's) needs, read now as a hit would read it.

        ``None`` when the answer cannot be replayed from a kept reading (see ``_replay``).
        ``recheck``: hits may come from requests that differ in what the provider's
        ``prepare`` reads (``Replay.recheck``).
        """
        try:
            return rehearse(self.endpoint, answer, recheck)
        except Exception:
            self._report("cache rehearsal")
            return None

    def replay_stored(self, replay: Replay) -> Iterator[bytes] | None:
        """Take ``replay``'s kept reading for this cache hit: nothing of it is read again.

        Returns the pieces to hand the caller, an iterator whose rest tells how far
        the caller got (a caller that stops early is read as before); the body's
        end is :meth:`end_of_body`, and :meth:`finish` records the call, as ever.
        ``None`` when the kept reading is not this request's (``Replay.recheck``):
        the hit is then replayed and read as before.
        """
        if replay.recheck:
            self.request_body()  # the provider decides what it would ask for
            if self.endpoint.usage_injected != replay.usage_injected:
                return None
        self.status_code = replay.status_code
        self.request_id = replay.request_id
        self.endpoint.usage_injected = replay.usage_injected
        reader = self._reader = ReplayReader(replay, self)
        return reader.pieces

    def reread_replay(self, replay: Replay, given: int) -> Observation:
        """A hit whose caller stopped after ``given`` pieces: read as every hit once was.

        The pieces read for those given, then on while only the usage report is
        to come (as a closing stream reads its tail), through the general path.
        """
        try:
            self._reader = None
            self.start_response(replay.status_code, dict(replay.headers))
            raw = replay.raw
            index = replay.read[given - 1] if given else 0
            ended = index > len(raw)  # the last piece given was one the body's end let through
            for piece in raw[:index]:
                self.feed(piece)
            size = 0
            # ``awaits_tail``, which says no once the call is finishing, as now:
            while not ended and self._awaits_report() and size < _TAIL_BYTES:
                if index == len(raw):
                    ended = True
                    break
                size += len(raw[index])
                self.feed(raw[index])
                index += 1
            if ended:
                self.end_of_body()
            return self.observe()
        except Exception:
            self._fail("cache replay")
            return Observation()

    def _awaits_report(self) -> bool:
        seen = self.observation
        return seen is not None and seen.final and not seen.complete and not self.broken
