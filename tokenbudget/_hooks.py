"""What the exchange asks of budgets and of the response cache.

The transport and :class:`~tokenbudget._exchange.Exchange` know nothing about
how budgets decide or how the cache stores; they call these interfaces at fixed
points of a call's life:

1. ``cache.lookup(exchange)`` before anything else: a hit is replayed through
   the exchange (usage read from the stored bytes, recorded as ``cached``) and
   nothing is sent; budgets are not consulted for a hit, since it costs nothing.
2. ``tracker._admit(exchange)`` on a miss, before a byte is sent: returns the
   guards of every budget that covers the call, or raises a budget exception
   (the request is then never sent and never recorded).
3. ``guard.on_progress(exchange)`` after each batch of stream events, for
   guards that watch streams: may raise a budget exception to cut the stream.
4. ``guard.settle(record)`` once the call is recorded, however it ended
   (errors and refusals mid-way settle at their recorded cost, releasing what
   was reserved).
5. ``cache.store(exchange, response)`` after a complete 2xx response to a
   request the cache accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ._data import CallRecord
    from ._exchange import Exchange

__all__ = ["CallGuard", "ResponseCache", "StoredResponse"]


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
    body: bytes
    stream: bool = False
    """True for an SSE body, replayed to the caller event by event."""


class ResponseCache(Protocol):
    """A store of answers keyed on requests."""

    def lookup(self, exchange: Exchange) -> StoredResponse | None:
        """The stored answer to ``exchange``'s request, or ``None``.

        Also decides whether the answer, on a miss, should be stored: it sets
        ``exchange.cache_key`` to a key to store under, or leaves it ``None``.
        """

    def store(self, exchange: Exchange, response: StoredResponse) -> None:
        """Keep a complete answer under ``exchange.cache_key``."""
