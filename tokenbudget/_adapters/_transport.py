"""The tracking transports: thin adapters between an httpx family and the core's ``Exchange``.

A tracking transport asks its tracker for an exchange for each request
(``tracker.begin(view)``; ``None`` passes the request through untouched),
then drives it: a cache hit is replayed, otherwise the budgets admit the call,
the request goes to the inner transport (with the body the exchange asks for),
and the response's stream is wrapped so the exchange sees every chunk and
records the call when the stream closes. Everything about providers, usage
and money lives in the sans-IO core.

These are the logic only, written once for httpx and httpx2 (same API under
two names): ``_families.build_family`` subclasses them with a family's module
(``_module``) and its stream classes.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from .._core import (
    BODY_HEADERS,
    SENDING,
    Exchange,
    RequestView,
    StoredResponse,
    header_bytes,
    replay_headers,
    replay_pieces,
)

__all__ = [
    "AsyncTrackingTransportLogic",
    "CallSource",
    "TrackingTransportLogic",
    "content_of",
    "request_view",
]


#: Headers that describe the bytes on the wire, not a stored (decoded) body.
_BODY_HEADERS = BODY_HEADERS  # (read by the requests adapter's replay)


class CallSource(Protocol):
    """What a tracking transport asks of its tracker (a ``TokenTracker``)."""

    def begin(self, request: RequestView) -> Exchange | None:
        """The exchange tracking ``request``, or ``None`` to pass it through untracked."""


def request_view(request: Any, read_body: Any) -> RequestView:
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


def content_of(request: Any) -> bytes:
    """The body of an async request if it is in memory; a streamed one reads as empty."""
    try:
        return bytes(request.content)
    except Exception:
        return b""


class _Adapter:
    """What the sync and async transports share: building requests and responses."""

    #: The family's module (``httpx`` or ``httpx2``), set by ``build_family``.
    _module: ClassVar[Any]
    #: The family's stream classes, set by ``build_family``.
    _tracked_stream: ClassVar[type[Any]]
    _replay_stream: ClassVar[type[Any]]

    def __init__(self, tracker: CallSource, inner: Any) -> None:
        self.tracker = tracker
        self.inner = inner

    def __repr__(self) -> str:
        return f"<{self._module.__name__}.{type(self).__name__} inner={self.inner!r}>"

    def _with_body(self, request: Any, body: bytes) -> Any:
        headers = self._module.Headers(request.headers)
        headers["Content-Length"] = str(len(body))
        return self._module.Request(
            request.method,
            request.url,
            headers=headers,
            content=body,
            extensions=request.extensions,
        )

    def _response(self, response: Any, request: Any, exchange: Exchange) -> Any:
        drop = exchange.start_response(response.status_code, response.headers)
        network = response.extensions.get("network_stream")
        stream = self._tracked_stream(response.stream, exchange, network)
        if not drop and not hasattr(response, "_content"):
            # The usual case: a transport's unread response; tee its stream in place.
            response.stream = stream
            response.extensions["tokenbudget.exchange"] = exchange
            return response
        # A response read already (mock transports) would never be iterated again,
        # and dropped headers need a new head: build a fresh response.
        headers = response.headers
        if drop:
            headers = self._module.Headers(
                [(k, v) for k, v in headers.multi_items() if k.lower() not in drop]
            )
        extensions = dict(response.extensions)
        extensions["tokenbudget.exchange"] = exchange
        return self._module.Response(
            response.status_code,
            headers=headers,
            stream=stream,
            extensions=extensions,
            request=request,
        )

    def _replay(self, answer: StoredResponse, request: Any, exchange: Exchange) -> Any:
        replay = answer.replay
        pieces = exchange.replay_stored(replay) if replay is not None else None
        if pieces is not None:
            # Read once when stored: the caller gets the kept pieces and the call is
            # recorded from the kept reading; nothing is parsed again.
            assert replay is not None
            return self._module.Response(
                replay.status_code,
                headers=replay.head,
                stream=self._replay_stream(pieces, exchange, replay.timed),
                extensions={"tokenbudget.exchange": exchange},
                request=request,
            )
        exchange.request_body()  # lets the provider set up its event filter
        headers = replay_headers(answer)
        # A hit is never stored again, so the exchange reads only a few single headers.
        drop = exchange.start_response(answer.status_code, dict(headers))
        if drop:
            headers = [(k, v) for k, v in headers if k.lower() not in drop]
        # A memory cache's answer comes cut into its events already (its ``events``).
        chunks = answer.events or replay_pieces(answer)
        return self._module.Response(
            answer.status_code,
            headers=header_bytes(headers),  # the bytes received, not text httpx would re-encode
            stream=self._tracked_stream(self._replay_stream(chunks), exchange),
            extensions={"tokenbudget.exchange": exchange},
            request=request,
        )

    def _prepared(self, request: Any, exchange: Exchange) -> Any:
        """The request to send: admitted by the budgets, with the body the exchange asks for."""
        exchange.admit()
        body = exchange.request_body()
        return request if body is None else self._with_body(request, body)


class TrackingTransportLogic(_Adapter):
    """Records every LLM call sent through ``inner``; passes everything else through."""

    def __init__(self, tracker: CallSource, inner: Any | None = None) -> None:
        super().__init__(tracker, inner if inner is not None else self._module.HTTPTransport())

    def handle_request(self, request: Any) -> Any:
        exchange = self.tracker.begin(request_view(request, request.read))
        if exchange is None:
            return self.inner.handle_request(request)
        answer = exchange.lookup_cache()
        if answer is not None:
            return self._replay(answer, request, exchange)
        sent = self._prepared(request, exchange)
        sending = SENDING.set(exchange)
        try:
            response = self.inner.handle_request(sent)
        except BaseException as exc:
            exchange.finish(exc)
            raise
        finally:
            SENDING.reset(sending)
        return self._response(response, request, exchange)

    def close(self) -> None:
        self.inner.close()


class AsyncTrackingTransportLogic(_Adapter):
    """Async twin of :class:`TrackingTransportLogic`."""

    def __init__(self, tracker: CallSource, inner: Any | None = None) -> None:
        inner = inner if inner is not None else self._module.AsyncHTTPTransport()
        super().__init__(tracker, inner)

    async def handle_async_request(self, request: Any) -> Any:
        # SDK request bodies are in memory already; a streamed upload is only
        # read when its host and path are tracked ones.
        exchange = self.tracker.begin(request_view(request, lambda: content_of(request)))
        if exchange is None:
            return await self.inner.handle_async_request(request)
        answer = await exchange.lookup_cache_async()
        if answer is not None:
            return self._replay(answer, request, exchange)
        sent = self._prepared(request, exchange)
        sending = SENDING.set(exchange)
        try:
            response = await self.inner.handle_async_request(sent)
        except BaseException as exc:
            exchange.finish(exc)
            raise
        finally:
            SENDING.reset(sending)
        return self._response(response, request, exchange)

    async def aclose(self) -> None:
        await self.inner.aclose()
