"""The response body streams the tracking transports hand to the caller.

Each tracked response's stream is wrapped: every chunk goes to the caller as
it arrives, after the exchange has seen it (teed, never buffered), and the
call is recorded in an idempotent close, also when the caller stops early or
the body fails; a stream dropped unclosed is recorded when it is collected
(``_reaper``).
A replayed answer (a cache hit) is a :class:`ReplayStream`
under the same wrapper, so a hit is read exactly like a real response.

These are the logic only: ``_transport.build_family`` subclasses each with
its family's (httpx or httpx2) byte-stream classes.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterable, Iterator
from time import perf_counter
from typing import Any, ClassVar

from .._core import BodyDecodingError, Exchange
from .._data import TokenBudgetError
from ._reaper import finish_dropped
from ._shared_json import SharedJson
from ._tail import aread_tail, read_tail

__all__ = ["AsyncTrackedStreamLogic", "ReplayStreamLogic", "TrackedStreamLogic"]


class ReplayStreamLogic:
    """A body handed over in given pieces (a stored SSE body: one per event).

    Under a :class:`TrackedStreamLogic` for a hit read as the network's bytes are.
    A hit replayed from its kept reading (``tokenbudget._core.Replay``) needs no
    reading: given its ``exchange``, this stream hands the kept pieces over
    untouched and records the call itself, as the tracked stream would (at the
    body's end, on close, when closed early or collected unclosed). ``timed``: the
    iteration's start is the stream's first chunk.
    """

    def __init__(
        self, chunks: Iterable[bytes], exchange: Exchange | None = None, timed: bool = False
    ) -> None:
        self._chunks = chunks
        self._exchange = exchange
        self._timed = timed

    def __iter__(self) -> Iterator[bytes]:
        exchange = self._exchange
        if exchange is None:
            yield from self._chunks
            return
        if self._timed:
            exchange.first_chunk_at = perf_counter()
        try:
            yield from self._chunks  # (the kept pieces' iterator: its reader counts on it)
        except BaseException as exc:  # closed early (GeneratorExit)
            exchange.finish(exc)
            raise
        exchange.end_of_body()
        exchange.finish()
        self._exchange = None  # recorded: closing or collecting this stream has nothing to do

    async def __aiter__(self) -> AsyncIterator[bytes]:
        exchange = self._exchange
        if exchange is not None and self._timed:
            exchange.first_chunk_at = perf_counter()
        try:
            for chunk in self._chunks:
                yield chunk
        except BaseException as exc:
            if exchange is not None:
                exchange.finish(exc)
            raise
        if exchange is not None:
            exchange.end_of_body()
            exchange.finish()
            self._exchange = None

    def close(self) -> None:
        exchange = self._exchange
        if exchange is not None:
            exchange.finish()

    async def aclose(self) -> None:
        self.close()

    def __del__(self) -> None:
        exchange = self._exchange
        if exchange is not None and not exchange.finished:  # dropped unclosed
            finish_dropped(exchange)


class _TrackedBody:
    """What the sync and async tracked streams share: their parts, a body that
    broke while decoded, and the record of a stream dropped unclosed.

    ``network`` is the connection's network stream (the response's
    ``network_stream`` extension) when there is one: closing at the final
    content event may read on for the usage report (``_tail``), and its
    socket bounds that read (sync only: an async read is bounded by a scope).
    """

    #: The family's ``DecodingError``, set by ``build_family``.
    _decoding_error: ClassVar[type[Exception]]

    def __init__(self, inner: Any, exchange: Exchange, network: Any = None) -> None:
        self._inner = inner
        self._exchange = exchange
        self._network = network
        self._chunks: Any = None  # the body's iterator, from the first reading on
        self._response: Any = None  # (a weak reference) see share_json

    def share_json(self, response: Any) -> None:
        """Hand ``response`` the document the exchange parses from its whole body, as the
        first answer of its ``json()`` (``_shared_json``): the body is parsed once."""
        self._exchange.share_json = True
        self._response = weakref.ref(response)

    def _hand_over(self) -> None:
        """The body was read to its end and recorded: give the response its document."""
        ref, self._response = self._response, None
        shared = self._exchange.take_shared_json()
        response = ref()
        if shared is not None and response is not None:
            response.json = SharedJson(*shared)

    def _broken_body(self, broken: BodyDecodingError) -> Exception:
        """A body handed over decoded broke: the call ends with the family's own error."""
        error = self._decoding_error(str(broken))
        self._exchange.finish(error)
        return error

    def __del__(self) -> None:
        exchange = self._exchange
        if not exchange.finished:  # dropped unclosed: recorded now (``_reaper``)
            finish_dropped(exchange)


class TrackedStreamLogic(_TrackedBody):
    """Passes each chunk on as it arrives and records the call when closed."""

    def __iter__(self) -> Iterator[bytes]:
        exchange = self._exchange
        # A second reading (an SDK draining the body after the end) goes on where
        # the first stopped, as a network body would, and is observed once.
        chunks = self._chunks
        if chunks is None:
            chunks = self._chunks = iter(self._inner)
        try:
            # Each chunk the exchange lets through, none empty: fed and filtered in C, with
            # no Python-level line per chunk here.
            yield from filter(None, map(exchange.feed, chunks))
            tail = exchange.end_of_body()
            if tail:
                yield tail
        except BodyDecodingError as broken:
            if broken.decoded:  # what was decoded, then the family's error
                yield broken.decoded
            raise self._broken_body(broken) from broken
        except BaseException as exc:
            if isinstance(exc, GeneratorExit) and exchange.awaits_tail():
                # The caller let go of its iterator right after the content ended.
                read_tail(chunks, exchange, self._network)
            exchange.finish(exc)
            if isinstance(exc, TokenBudgetError):
                self._inner.close()  # a budget cut the stream: drop the connection now
            raise
        exchange.finish()
        if self._response is not None:
            self._hand_over()

    def close(self) -> None:
        exchange = self._exchange
        try:
            if not exchange.finished and self._chunks is not None and exchange.awaits_tail():
                read_tail(self._chunks, exchange, self._network)
            exchange.finish()
        finally:
            self._inner.close()


class AsyncTrackedStreamLogic(_TrackedBody):
    """Async twin of :class:`TrackedStreamLogic`: same exchange calls, ``async for`` loop."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        exchange = self._exchange
        chunks = self._chunks  # a second reading goes on where the first stopped
        if chunks is None:
            chunks = self._chunks = self._inner.__aiter__()
        try:
            async for chunk in chunks:
                out = exchange.feed(chunk)
                if out:
                    yield out
            tail = exchange.end_of_body()
            if tail:
                yield tail
        except BodyDecodingError as broken:
            if broken.decoded:  # what was decoded, then the family's error
                yield broken.decoded
            raise self._broken_body(broken) from broken
        except BaseException as exc:
            if isinstance(exc, GeneratorExit) and exchange.awaits_tail():
                await aread_tail(chunks, exchange)  # (an async generator may await in aclose)
            exchange.finish(exc)
            if isinstance(exc, TokenBudgetError):
                await self._inner.aclose()
            raise
        exchange.finish()
        if self._response is not None:
            self._hand_over()

    async def aclose(self) -> None:
        exchange = self._exchange
        try:
            if not exchange.finished and self._chunks is not None and exchange.awaits_tail():
                await aread_tail(self._chunks, exchange)
            exchange.finish()
        finally:
            await self._inner.aclose()
