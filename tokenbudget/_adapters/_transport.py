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

from collections.abc import Callable
from operator import itemgetter
from typing import Any, ClassVar, Protocol

from .._core import (
    SENDING,
    Exchange,
    RequestView,
    StoredResponse,
    header_bytes,
    learn_header_layout,
    replay_pieces,
    start_replay,
)
from ._shared_json import StoredJson

__all__ = [
    "AsyncTrackingTransportLogic",
    "CallSource",
    "TrackingTransportLogic",
    "content_of",
    "copyable_requests",
    "learn_urls",
    "request_view",
]

_LOWER_NAME = itemgetter(1)


class CallSource(Protocol):
    """What a tracking transport asks of its tracker (a ``TokenTracker``)."""

    def begin(self, request: RequestView) -> Exchange | None:
        """The exchange tracking ``request``, or ``None`` to pass it through untracked."""


#: The fields of httpx's parsed URL (``URL._uri_reference``) since httpx 0.24, and in httpx2.
_URL_FIELDS = ("scheme", "userinfo", "host", "port", "path", "query", "fragment")
#: Classes of parsed URLs known to have :data:`_URL_FIELDS`, learnt per family (``learn_urls``).
_PARSED_URLS: set[type] = set()


def learn_urls(module: Any) -> None:
    """Read ``module``'s URLs (httpx or httpx2) from their parsed fields when it keeps them
    as httpx 0.24+ and httpx2 do, and its headers from their byte triples when it keeps
    them as httpx 0.18+ and httpx2 do; other generations are read through the public
    properties."""
    parsed = type(getattr(module.URL("http://x/"), "_uri_reference", None))
    if getattr(parsed, "_fields", None) == _URL_FIELDS:
        _PARSED_URLS.add(parsed)
    if _keeps_header_triples(module):
        learn_header_layout(module.Headers)


def _keeps_header_triples(module: Any) -> bool:
    """True when ``module``'s headers keep their items as httpx 0.18+ and httpx2 do: a
    ``_list`` of (name, lower-case name, value) byte triples, repeats kept in order."""
    try:
        layout = module.Headers([("A", "b"), ("a", "c")])._list
    except (AttributeError, TypeError):
        return False
    return bool(layout == [(b"A", b"a", b"b"), (b"a", b"a", b"c")])


def request_view(
    request: Any, read_body: Callable[[], bytes] | None = None, is_async: bool = False
) -> RequestView:
    """The view of an httpx or httpx2 ``request``; its body is read only when asked for.

    ``read_body`` gives the body; by default it is made only when the body is not in
    memory already (an SDK's is): ``request.read``, or for an async request
    ``content_of`` (a streamed upload reads as empty).
    """
    url = request.url
    parsed: Any = getattr(url, "_uri_reference", None)
    if type(parsed) in _PARSED_URLS:
        # The URL's own fields, in the form its properties give them when the host
        # is not IDNA-encoded and the path not percent-encoded (the usual case).
        _, _, host, port, path, query, _ = parsed
        if "xn--" not in host and "%" not in path:
            # A body in memory already (an SDK's) is taken as it is, not read again. (getattr,
            # not __dict__: that would turn the request's inline attribute values into a dict.)
            body = getattr(request, "_content", None)
            return RequestView(
                request.method,
                host,
                path or "/",
                port,
                query or "",
                request.headers,
                body,
                read_body or (None if body is not None else _body_reader(request, is_async)),
            )
    query = url.query
    return RequestView(
        request.method,
        url.host,
        url.path,
        url.port,
        query.decode("ascii", "replace") if isinstance(query, bytes) else query,
        request.headers,
        None,
        read_body or _body_reader(request, is_async),
    )


def _body_reader(request: Any, is_async: bool) -> Callable[[], bytes]:
    """What gives ``request``'s body when a view is asked for it (see :func:`request_view`)."""
    if is_async:
        return lambda: content_of(request)
    read: Callable[[], bytes] = request.read
    return read


def _set_length(headers: Any, length: int) -> None:
    """``headers["Content-Length"] = str(length)``, done on httpx's own list of (name,
    lower-case name, value) triples with C-level passes, where ``__setitem__`` compares
    every header in Python (an SDK sends twenty)."""
    items = headers._list
    names = list(map(_LOWER_NAME, items))
    if names.count(b"content-length") == 1:
        items[names.index(b"content-length")] = (
            b"Content-Length",
            b"content-length",
            str(length).encode("ascii"),
        )
    else:
        headers["Content-Length"] = str(length)


def copyable_requests(module: Any) -> bool:
    """True when ``module``'s requests and headers are laid out as :meth:`_Adapter._with_body`
    copies them (every httpx since 0.18, httpx2): plain attributes, a ``ByteStream`` for a
    body in memory, headers kept as (name, lower-case name, value) triples."""
    try:
        fields = vars(module.Request("POST", "http://x/", content=b"{}"))
    except (AttributeError, TypeError):
        return False
    return (
        hasattr(module, "ByteStream")
        and fields.get("_content") == b"{}"
        and {"method", "url", "headers", "stream", "extensions"} <= fields.keys()
        and _keeps_header_triples(module)
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
    #: Inner transport classes that never run code which could begin a tracked call
    #: (the family's network and mock transports), set by ``build_family``.
    _leaves: ClassVar[frozenset[type]] = frozenset()
    #: True when the family's requests can be copied as :meth:`_with_body` does, set by
    #: ``build_family`` (``copyable_requests``).
    _copyable: ClassVar[bool] = False
    #: True when a response of the family can be handed the JSON document tokenbudget
    #: parsed (``_shared_json``), set by ``build_family``.
    _shares_json: ClassVar[bool] = False

    def __init__(self, tracker: CallSource, inner: Any) -> None:
        self.tracker = tracker
        self.inner = inner

    @property
    def inner(self) -> Any:
        """The transport that sends the requests."""
        return self._inner

    @inner.setter
    def inner(self, transport: Any) -> None:
        self._inner = transport
        # ``SENDING`` is for the trackers that may see this very HTTP call beneath:
        # an inner transport of a leaf class has none.
        self._announce = type(transport) not in self._leaves

    def __repr__(self) -> str:
        return f"<{self._module.__name__}.{type(self).__name__} inner={self._inner!r}>"

    def _with_body(self, request: Any, body: bytes) -> Any:
        """``request`` carrying ``body`` instead, as a new request: the caller's own is left
        as it was (an SDK sends it again when it retries)."""
        module = self._module
        headers = module.Headers(request.headers)
        if self._copyable:
            # The caller's request with a new body, head and extensions, copied field by
            # field: building a Request again would encode and parse everything anew.
            _set_length(headers, len(body))
            sent = object.__new__(type(request))
            for name, value in vars(request).items():
                # One by one, in the request's own order: the copy keeps its attribute
                # values inline, as a request built by httpx does (__dict__.update would
                # make them a dict, and every later access a slower dict lookup).
                setattr(sent, name, value)
            sent.headers = headers
            sent.extensions = dict(request.extensions)
            sent.stream = module.ByteStream(body)
            sent._content = body
            return sent
        headers["Content-Length"] = str(len(body))
        return module.Request(
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
        # (hasattr, not the instance's __dict__: reading __dict__ turns the response's inline
        # attribute values into a dict, and every later attribute access by httpx and the
        # SDK into a slower dict lookup.)
        if not hasattr(response, "_content"):
            # The usual case: a transport's unread response, handed to us alone: tee its
            # stream in place, and take off the headers of bytes the caller will not get.
            if drop:
                self._remove_headers(response.headers, drop)
            response.stream = stream
            response.extensions["tokenbudget.exchange"] = exchange
            self._share_json(stream, response, exchange)
            return response
        # A response read already (mock transports) would never be iterated again:
        # build a fresh one.
        headers = response.headers
        if drop:
            headers = self._module.Headers(
                [(k, v) for k, v in headers.multi_items() if k.lower() not in drop]
            )
        extensions = dict(response.extensions)
        extensions["tokenbudget.exchange"] = exchange
        fresh = self._module.Response(
            response.status_code,
            headers=headers,
            stream=stream,
            extensions=extensions,
            request=request,
        )
        self._share_json(stream, fresh, exchange)
        return fresh

    def _share_json(self, stream: Any, response: Any, exchange: Exchange) -> None:
        """Have ``stream`` hand ``response`` the document ``exchange`` parses from a whole
        JSON body (``_shared_json``), when the family allows it and the response's class
        has no ``json()`` of its own."""
        if (
            self._shares_json
            and exchange.reads_json
            and type(response).json is self._module.Response.json
        ):
            stream.share_json(response)

    def _remove_headers(self, headers: Any, names: list[str]) -> None:
        """Remove every header called one of ``names`` (lower-case) from ``headers``."""
        if self._copyable:  # httpx's own list of (name, lower-case name, value) triples
            lower = frozenset(map(str.encode, names))  # (ASCII names: UTF-8 is the same)
            headers._list = [item for item in headers._list if item[1] not in lower]
            return
        for name in names:
            if name in headers:
                del headers[name]

    def _replay(self, answer: StoredResponse, request: Any, exchange: Exchange) -> Any:
        replay = answer.replay
        pieces = exchange.replay_stored(replay) if replay is not None else None
        if pieces is not None:
            # Read once when stored: the caller gets the kept pieces and the call is
            # recorded from the kept reading; nothing is parsed again.
            assert replay is not None
            module = self._module
            head = replay.forms.get(module)
            if head is None:  # this answer's first hit through this library: its head, once
                head = replay.forms[module] = module.Headers(replay.head)
            response = module.Response(
                replay.status_code,
                headers=head,  # (a response copies the headers it is given)
                stream=self._replay_stream(pieces, exchange, replay.timed),
                extensions={"tokenbudget.exchange": exchange},
                request=request,
            )
            if replay.document is not None and self._shares_json:
                response.json = StoredJson(replay.document, b"".join(replay.events))
            return response
        exchange.request_body()  # lets the provider set up its event filter
        headers = start_replay(exchange, answer)
        # A memory cache's answer comes cut into its events already (its ``events``).
        chunks = answer.events or replay_pieces(answer)
        stream = self._tracked_stream(self._replay_stream(chunks), exchange)
        response = self._module.Response(
            answer.status_code,
            headers=header_bytes(headers),  # the bytes received, not text httpx would re-encode
            stream=stream,
            extensions={"tokenbudget.exchange": exchange},
            request=request,
        )
        self._share_json(stream, response, exchange)
        return response


class TrackingTransportLogic(_Adapter):
    """Records every LLM call sent through ``inner``; passes everything else through."""

    def __init__(self, tracker: CallSource, inner: Any | None = None) -> None:
        super().__init__(tracker, inner if inner is not None else self._module.HTTPTransport())

    def handle_request(self, request: Any) -> Any:
        exchange = self.tracker.begin(request_view(request))
        if exchange is None:
            return self._inner.handle_request(request)
        if exchange.ports.cache is not None:
            answer = exchange.lookup_cache()
            if answer is not None:
                return self._replay(answer, request, exchange)
        exchange.admit()
        body = exchange.request_body()
        sent = request if body is None else self._with_body(request, body)
        sending = SENDING.set(exchange) if self._announce else None
        try:
            response = self._inner.handle_request(sent)
        except BaseException as exc:
            exchange.finish(exc)
            raise
        finally:
            if sending is not None:
                SENDING.reset(sending)
        return self._response(response, request, exchange)

    def close(self) -> None:
        self._inner.close()


class AsyncTrackingTransportLogic(_Adapter):
    """Async twin of :class:`TrackingTransportLogic`."""

    def __init__(self, tracker: CallSource, inner: Any | None = None) -> None:
        inner = inner if inner is not None else self._module.AsyncHTTPTransport()
        super().__init__(tracker, inner)

    async def handle_async_request(self, request: Any) -> Any:
        # SDK request bodies are in memory already; a streamed upload is only
        # read when its host and path are tracked ones.
        exchange = self.tracker.begin(request_view(request, None, True))
        if exchange is None:
            return await self._inner.handle_async_request(request)
        if exchange.ports.cache is not None:
            answer = await exchange.lookup_cache_async()
            if answer is not None:
                return self._replay(answer, request, exchange)
        exchange.admit()
        body = exchange.request_body()
        sent = request if body is None else self._with_body(request, body)
        sending = SENDING.set(exchange) if self._announce else None
        try:
            response = await self._inner.handle_async_request(sent)
        except BaseException as exc:
            exchange.finish(exc)
            raise
        finally:
            if sending is not None:
                SENDING.reset(sending)
        return self._response(response, request, exchange)

    async def aclose(self) -> None:
        await self._inner.aclose()
