"""The ports: everything an exchange asks of the library around it.

The core knows nothing about how budgets decide, how the cache stores, how
prices are found or where records go. An :class:`~._exchange.Exchange` is
given a :class:`Ports` (the tracker builds one from its ledger, price book,
budgets and cache; a unit test builds one from fakes) and calls it at fixed
points of a call's life:

1. ``cache.lookup(exchange)`` before anything else: a hit is replayed through
   the exchange (usage read from the stored bytes, or kept from when they were
   stored: ``StoredResponse.replay``; recorded as ``cached``) and nothing is
   sent; budgets are not consulted for a hit, since it costs nothing.
2. ``admit(exchange)`` on a miss, before a byte is sent: returns the guards of
   every budget that covers the call, or raises a budget exception (the
   request is then never sent and never recorded). A tracker gives no ``admit``
   while the process has no budget: then nothing runs here.
3. ``guard.on_progress(exchange)`` after each batch of stream events, for
   guards that watch streams: may raise a budget exception to cut the stream.
4. ``price(...)`` and ``record(record)`` once the call ends, however it ended.
5. ``guard.settle(record)`` right after (errors and refusals mid-way settle at
   their recorded cost, releasing what was reserved).
6. ``cache.store(exchange, response)`` after a complete 2xx response to a
   request the cache gave a key to, then ``cache.release(exchange)`` (when the
   cache has it) however the call ended, or when a budget refused it; not after a
   call the cache answered (a hit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .._data import CallRecord, Usage
    from ._exchange import Exchange
    from ._replay import Replay

__all__ = ["CallGuard", "Ports", "Pricer", "ResponseCache", "StoredResponse"]

#: Prices a call: ``(provider, model, usage, service_tier, batch, at) -> dollars``,
#: ``None`` when the model has no known price. Must not raise.
Pricer = Callable[[str, "str | None", "Usage", "str | None", bool, datetime], "Decimal | None"]


class CallGuard(Protocol):
    """One budget's hold on one call."""

    #: True when :meth:`on_progress` must run as stream events arrive.
    watches_stream: bool

    def on_progress(self, exchange: Exchange) -> None:
        """Check a stream in flight; raise a budget exception to stop it."""

    def settle(self, record: CallRecord) -> None:
        """Replace what was reserved for the call by what it cost."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A provider's answer as the cache keeps it: decoded body, safe headers only."""

    status_code: int
    headers: tuple[tuple[str, str], ...]
    """(name, value) pairs, each the Latin-1 text of the bytes received, so a replay
    sends those exact bytes (``header_bytes``)."""
    body: bytes
    stream: bool = False
    """True for an SSE body, replayed to the caller event by event."""
    events: tuple[bytes, ...] | None = field(default=None, compare=False)
    """The body cut for a replay (after each event of an SSE body), when the cache
    keeps it so (a memory cache, cut once when stored); ``None``: cut per hit."""
    replay: Replay | None = field(default=None, compare=False)
    """What a hit hands over and records, read once when stored (``_replay``), when
    the cache keeps it (a memory cache); ``None``: each hit reads the body again."""


class ResponseCache(Protocol):
    """A store of answers keyed on requests: what ``TokenTracker(cache=...)`` accepts.

    ``tokenbudget.cache.CallCache`` is the built-in one; any object with these
    two methods can stand in for it (the pytest plugin's recordings do).
    """

    def lookup(self, exchange: Exchange) -> StoredResponse | None:
        """The stored answer to ``exchange``'s request, or ``None``.

        Also decides whether the answer, on a miss, should be stored: it sets
        ``exchange.cache_key`` to a key to store under, or leaves it ``None``.
        """

    def store(self, exchange: Exchange, response: StoredResponse) -> None:
        """Keep a complete answer under ``exchange.cache_key``."""

    # Optional (looked up with getattr; ``CallCache`` has both), for single flight:
    # ``async alookup(exchange)``: ``lookup`` for async transports, which may wait for
    # an identical call in flight without blocking the event loop;
    # ``release(exchange)``: the call is over (recorded after any ``store``, or refused
    # by a budget before sending); calls waiting for it go on. Not called for a call
    # that ``lookup`` answered (``exchange.cached``): nothing waits for one never sent.


def _no_version() -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Ports:
    """What an exchange asks of the rest of the library; see the module docstring."""

    price: Pricer
    """The cost of a call (``None``: unpriced)."""
    record: Callable[[CallRecord], None]
    """Keeps the record of a finished call (the ledger)."""
    admit: Callable[[Exchange], Sequence[CallGuard]] | None
    """Holds the call in every budget covering it, or raises the refusal; ``None`` while
    nothing can hold a call (the process has no budget yet): admission is then skipped."""
    cache: ResponseCache | None = None
    """The response cache; ``None``: calls are never cached."""
    price_version: Callable[[], str | None] = _no_version
    """The version of the price data calls are priced with (kept on each record)."""
