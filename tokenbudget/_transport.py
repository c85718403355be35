"""The tracking transports: thin adapters between an httpx family and :class:`Exchange`.

httpx and httpx2 have the same API under two import names, so one set of
classes is built per installed family by :func:`build_family`: a sync and an
async transport, and a sync and an async stream wrapper that tee each chunk to
the exchange and record the call in an idempotent close. Everything about
providers, usage and money lives in the sans-IO :class:`Exchange`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._data import TokenBudgetError
from ._exchange import SENDING, Exchange
from ._hooks import StoredResponse
from ._sse import SSEDecoder
from .providers._base import RequestView

if TYPE_CHECKING:
    from ._tracker import TokenTracker

__all__ = ["Family", "build_family"]


@dataclass(frozen=True)
class Family:
    """The tracking classes built for one httpx family (``httpx`` or ``httpx2``)."""

    name: str
    module: Any
    Transport: type[Any]
    AsyncTransport: type[Any]
    #: A sync and async byte stream handing over a list of chunks (cache replays, fakes).
    ChunkStream: type[Any]

    def is_tracking(self, transport: object) -> bool:
        """True when ``transport`` is one of this family's tracking transports."""
        return isinstance(transport, (self.Transport, self.AsyncTransport))


def _request_view(request: Any, read_body: Any) -> RequestView:
    url = request.url
    query = url.query
    return RequestView(
        request.method,
        url.host,
        url.path,
        port=url.port,
        query=query.decode("ascii", "replace") if isinstance(query, bytes) else query,
        headers=request.headers,
        load_body=read_body,
    )


#: Headers that describe the bytes on the wire, not a stored (decoded) body.
_BODY_HEADERS = frozenset(("content-encoding", "content-length", "transfer-encoding"))


def split_events(body: bytes) -> list[bytes]:
    """An SSE body cut after each event, as a server would send it."""
    decoder = SSEDecoder(keep_raw=True)
    chunks = [event.raw for event in decoder.feed(body)]
    chunks.extend(event.raw for event in decoder.flush())
    tail = decoder.take_tail()
    if tail:
        chunks.append(tail)
    return chunks


def _content(request: Any) -> bytes:
    """The body of an async request if it is in memory; a streamed one reads as empty."""
    try:
        return bytes(request.content)
    except Exception:
        return b""


def build_family(name: str, module: Any) -> Family:
    """Build the tracking transport classes for the httpx-like ``module``."""

    def _with_body(request: Any, body: bytes) -> Any:
        headers = module.Headers(request.headers)
        headers["Content-Length"] = str(len(body))
        return module.Request(
            request.method,
            request.url,
            headers=headers,
            content=body,
            extensions=request.extensions,
        )

    def _response(response: Any, request: Any, exchange: Exchange, stream: Any) -> Any:
        drop = exchange.start_response(response.status_code, response.headers)
        if not drop and not hasattr(response, "_content"):
            # The usual case: a transport's unread response; tee its stream in place.
            response.stream = stream
            response.extensions["tokenbudget.exchange"] = exchange
            return response
        # A response read already (mock transports) would never be iterated again,
        # and dropped headers need a new head: build a fresh response.
        headers = response.headers
        if drop:
            headers = module.Headers(
                [(k, v) for k, v in headers.multi_items() if k.lower() not in drop]
            )
        extensions = dict(response.extensions)
        extensions["tokenbudget.exchange"] = exchange
        return module.Response(
            response.status_code,
            headers=headers,
            stream=stream,
            extensions=extensions,
            request=request,
        )

    class ReplayStream(module.SyncByteStream, module.AsyncByteStream):  # type: ignore[misc, name-defined]
        """A body handed over in given pieces (a stored SSE body: one per event)."""

        def __init__(self, chunks: Sequence[bytes]) -> None:
            self._chunks = chunks

        def __iter__(self) -> Iterator[bytes]:
            yield from self._chunks

        async def __aiter__(self) -> AsyncIterator[bytes]:
            for chunk in self._chunks:
                yield chunk

    def _replay(answer: StoredResponse, request: Any, exchange: Exchange, wrapper: Any) -> Any:
        headers = [(k, v) for k, v in answer.headers if k.lower() not in _BODY_HEADERS]
        if not answer.stream:
            headers.append(("content-length", str(len(answer.body))))
        # A hit is never stored again, so the exchange reads only a few single headers.
        drop = exchange.start_response(answer.status_code, dict(headers))
        if drop:
            headers = [(k, v) for k, v in headers if k.lower() not in drop]
        inner = ReplayStream(split_events(answer.body) if answer.stream else [answer.body])
        return module.Response(
            answer.status_code,
            headers=headers,
            stream=wrapper(inner, exchange),
            extensions={"tokenbudget.exchange": exchange},
            request=request,
        )

    class TrackedStream(module.SyncByteStream):  # type: ignore[misc, name-defined]
        """Passes each chunk on as it arrives and records the call when closed."""

        def __init__(self, inner: Any, exchange: Exchange) -> None:
            self._inner = inner
            self._exchange = exchange

        def __iter__(self) -> Iterator[bytes]:
            exchange = self._exchange
            try:
                for chunk in self._inner:
                    out = exchange.feed(chunk)
                    if out:
                        yield out
                tail = exchange.end_of_body()
                if tail:
                    yield tail
            except BaseException as exc:
                exchange.finish(exc)
                if isinstance(exc, TokenBudgetError):
                    self._inner.close()  # a budget cut the stream: drop the connection now
                raise
            exchange.finish()

        def close(self) -> None:
            try:
                self._exchange.finish()
            finally:
                self._inner.close()

    class AsyncTrackedStream(module.AsyncByteStream):  # type: ignore[misc, name-defined]
        """Async twin of ``TrackedStream``: same exchange calls, ``async for`` loop."""

        def __init__(self, inner: Any, exchange: Exchange) -> None:
            self._inner = inner
            self._exchange = exchange

        async def __aiter__(self) -> AsyncIterator[bytes]:
            exchange = self._exchange
            try:
                async for chunk in self._inner:
                    out = exchange.feed(chunk)
                    if out:
                        yield out
                tail = exchange.end_of_body()
                if tail:
                    yield tail
            except BaseException as exc:
                exchange.finish(exc)
                if isinstance(exc, TokenBudgetError):
                    await self._inner.aclose()
                raise
            exchange.finish()

        async def aclose(self) -> None:
            try:
                self._exchange.finish()
            finally:
                await self._inner.aclose()

    class TrackingTransport(module.BaseTransport):  # type: ignore[misc, name-defined]
        """Records every LLM call sent through ``inner``; passes everything else through."""

        def __init__(self, tracker: TokenTracker, inner: Any | None = None) -> None:
            self.tracker = tracker
            self.inner = inner if inner is not None else module.HTTPTransport()

        def handle_request(self, request: Any) -> Any:
            exchange = self.tracker._begin(_request_view(request, request.read))
            if exchange is None:
                return self.inner.handle_request(request)
            answer = exchange.lookup_cache()
            if answer is not None:
                exchange.request_body()  # lets the provider set up its event filter
                return _replay(answer, request, exchange, TrackedStream)
            exchange.admit()
            body = exchange.request_body()
            sent = request if body is None else _with_body(request, body)
            sending = SENDING.set(exchange)
            try:
                response = self.inner.handle_request(sent)
            except BaseException as exc:
                exchange.finish(exc)
                raise
            finally:
                SENDING.reset(sending)
            return _response(response, request, exchange, TrackedStream(response.stream, exchange))

        def close(self) -> None:
            self.inner.close()

        def __repr__(self) -> str:
            return f"<{name}.TrackingTransport inner={self.inner!r}>"

    class AsyncTrackingTransport(module.AsyncBaseTransport):  # type: ignore[misc, name-defined]
        """Async twin of ``TrackingTransport``."""

        def __init__(self, tracker: TokenTracker, inner: Any | None = None) -> None:
            self.tracker = tracker
            self.inner = inner if inner is not None else module.AsyncHTTPTransport()

        async def handle_async_request(self, request: Any) -> Any:
            # SDK request bodies are in memory already; a streamed upload is only
            # read when its host and path are tracked ones.
            exchange = self.tracker._begin(_request_view(request, lambda: _content(request)))
            if exchange is None:
                return await self.inner.handle_async_request(request)
            answer = exchange.lookup_cache()
            if answer is not None:
                exchange.request_body()
                return _replay(answer, request, exchange, AsyncTrackedStream)
            exchange.admit()
            body = exchange.request_body()
            sent = request if body is None else _with_body(request, body)
            sending = SENDING.set(exchange)
            try:
                response = await self.inner.handle_async_request(sent)
            except BaseException as exc:
                exchange.finish(exc)
                raise
            finally:
                SENDING.reset(sending)
            stream = AsyncTrackedStream(response.stream, exchange)
            return _response(response, request, exchange, stream)

        async def aclose(self) -> None:
            await self.inner.aclose()

        def __repr__(self) -> str:
            return f"<{name}.AsyncTrackingTransport inner={self.inner!r}>"

    classes = (
        ReplayStream,
        TrackedStream,
        AsyncTrackedStream,
        TrackingTransport,
        AsyncTrackingTransport,
    )
    for cls in classes:
        cls.__qualname__ = f"{name}.{cls.__name__}"
        cls.__module__ = __name__
    return Family(name, module, TrackingTransport, AsyncTrackingTransport, ReplayStream)
