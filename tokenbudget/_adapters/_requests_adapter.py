"""The tracking adapter for ``requests``: the httpx transports' life cycle, for a ``Session``.

google-genai 1.0-1.5 send through ``requests`` (a new ``Session`` per call),
not httpx. :class:`TrackingAdapter` is mounted on a session in place of its
adapter and drives the same sans-IO :class:`~tokenbudget._core.Exchange` as
the httpx transports (``_transport``): ``tracker.begin`` (``None`` passes the
request through untouched), a cache hit replayed as a ``requests.Response``
with nothing sent, the budgets' admission before a byte leaves, the body the
exchange asks for, then the real adapter, and a response whose body the
exchange reads as the caller reads it (``_requests_body``).

This module imports ``requests``: the rest of tokenbudget reaches it only
through ``_requests_patch``, once ``requests`` is wanted.
"""

from __future__ import annotations

import http
import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse

from .._core import SENDING, Exchange, RequestView, StoredResponse, replay_headers
from ._requests_body import TrackedRaw, decoded_by_urllib3
from ._transport import CallSource

__all__ = ["TrackingAdapter"]


def _body_bytes(body: Any) -> bytes:
    """A prepared request's body if it is in memory; a file or generator reads as empty."""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")  # what urllib3 sends for a text body
    return b""


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _request_view(request: requests.PreparedRequest) -> RequestView:
    url = urlsplit(request.url or "")
    return RequestView(
        request.method or "GET",
        url.hostname or "",
        url.path or "/",
        port=url.port,
        query=url.query,
        headers={name.lower(): _text(value) for name, value in request.headers.items()},
        load_body=lambda: _body_bytes(request.body),
    )


class TrackingAdapter(BaseAdapter):
    """Records every LLM call a ``requests.Session`` sends through ``inner``.

    Requests the tracker does not recognise go to ``inner`` untouched.
    Attributes it does not have (``max_retries``, ``poolmanager``...) are
    ``inner``'s.
    """

    def __init__(self, tracker: CallSource, inner: BaseAdapter | None = None) -> None:
        super().__init__()
        self.tracker = tracker
        self.inner = inner if inner is not None else HTTPAdapter()

    def __getattr__(self, name: str) -> Any:
        if name in ("inner", "tracker") or name.startswith("__"):
            raise AttributeError(name)  # not built yet (unpickling): no recursion
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"<requests.TrackingAdapter inner={self.inner!r}>"

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Send ``request`` through ``inner``, tracked: see the module docstring."""
        exchange = self.tracker.begin(_request_view(request))
        if exchange is None:
            return self.inner.send(request, **kwargs)
        answer = exchange.lookup_cache()
        if answer is not None:
            return self._replay(answer, request, exchange)
        exchange.admit()  # a refusal is raised here: nothing was sent
        body = exchange.request_body()
        sent = request
        if body is not None:
            sent = request.copy()
            sent.body = body
            sent.headers["Content-Length"] = str(len(body))
        sending = SENDING.set(exchange)
        try:
            response = self.inner.send(sent, **kwargs)
        except BaseException as exc:
            exchange.finish(exc)
            raise
        finally:
            SENDING.reset(sending)
        response.request = request  # the caller's request, not our rewrite of it
        return self._tracked(response, exchange)

    def _tracked(self, response: requests.Response, exchange: Exchange) -> requests.Response:
        """``response`` with its body read by ``exchange`` as the caller reads it."""
        raw = response.raw
        encoded = decoded_by_urllib3(raw)
        headers: Mapping[str, str] = response.headers
        if encoded:  # the exchange reads what urllib3 decoded: a body without encoding
            headers = {k: v for k, v in headers.items() if k.lower() != "content-encoding"}
        drop = exchange.start_response(response.status_code, headers)
        for name in drop:  # the exchange rewrites the body: the caller gets decoded bytes
            response.headers.pop(name, None)
        response.raw = TrackedRaw(raw, exchange, filtered=bool(drop), encoded=encoded)
        return response

    def _replay(
        self, answer: StoredResponse, request: requests.PreparedRequest, exchange: Exchange
    ) -> requests.Response:
        """A stored answer as the response the real adapter would have built; nothing is sent."""
        exchange.request_body()  # lets the provider set up its event filter
        headers = replay_headers(answer)
        drop = exchange.start_response(answer.status_code, dict(headers))
        headers = [(k, v) for k, v in headers if k.lower() not in drop]
        try:
            reason = http.HTTPStatus(answer.status_code).phrase
        except ValueError:
            reason = ""
        raw = HTTPResponse(
            body=io.BytesIO(answer.body),
            headers=headers,  # type: ignore[arg-type]  # pairs: urllib3 1.26 and 2.x take them
            status=answer.status_code,
            reason=reason,
            preload_content=False,
            decode_content=False,
            request_url=request.url,
        )
        # requests' own assembly (status, headers, encoding, url, cookies) from a urllib3 answer.
        response = HTTPAdapter.build_response(self, request, raw)  # type: ignore[arg-type]
        response.raw = TrackedRaw(raw, exchange, filtered=bool(drop), encoded=False)
        return response

    def close(self) -> None:
        """Close the real adapter."""
        self.inner.close()
