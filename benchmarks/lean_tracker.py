"""The least any tracker recording what tokenbudget records can do per call: a floor.

A transport of a few straight lines for two cases only (an openai chat completion
over httpx2, answered in JSON or streamed), which still does what a call's record needs:

- it finds the endpoint (one dict lookup by host and path) and reads the request's
  model (its body parsed);
- it takes the call's clock and timestamp;
- it keeps the body as it passes and parses it once when the stream closes, handing the
  document to the SDK's ``json()`` as tokenbudget does (so the SDK parses nothing);
- a stream's request asks for usage (``stream_options``, written into a copy of the
  request), and the caller gets the stream it asked for: ``"usage": null`` cut from each
  event, the usage report kept back;
- it turns the usage into a ``Usage``, prices it, builds the ``CallRecord`` and adds it
  to the ledger (totals and recent records), through the library's own per-call pieces.

It has nothing else: no status, header or encoding check, no request id, no error,
estimate or abandoned-stream handling, no tags, no budgets, no cache, no other
provider, endpoint or family; it takes the benchmarks' stream for granted (compact
request bodies, one event per chunk, spelt as their server spells them). Whatever a
tracker adds on top of this costs more, so this transport's ratio to an untracked call
is a floor for the benchmarks' targets
(``bench_transport.py --cases lean``, ``bench_instructions.py --lean``,
``bench_ttfc.py --lean``).

The pricing, record and ledger steps use private names on purpose (``_prices``,
``_ledger``, ``make_record``): the floor must cost what the library's own pieces cost,
and its public entry points (``PriceBook.cost``, ``CallRecord(...)``, ``add_record``)
take slower paths made for occasional use.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

import httpx2

from tokenbudget import TokenTracker
from tokenbudget._data import make_record
from tokenbudget.providers.openai import normalise_openai_usage

__all__ = ["LeanTracker"]

_ROUTES = {("api.openai.com", "/v1/chat/completions"): "chat"}
_NO_TAGS: dict[str, str] = {}


class _LeanBody(httpx2.SyncByteStream):
    """The response body: passed on chunk by chunk, read and recorded at close."""

    __slots__ = ("chunks", "document", "inner", "model", "owner", "started", "timestamp")

    def __init__(self, inner: Any, owner: LeanTracker, model: Any, timestamp: datetime) -> None:
        self.inner = inner
        self.owner = owner
        self.model = model
        self.timestamp = timestamp
        self.started = time.perf_counter()
        self.chunks: list[bytes] = []
        self.document: Any = None

    def json(self, **kwargs: Any) -> Any:
        """The document parsed at close, once (what the SDK asks for)."""
        document, self.document = self.document, None
        return document

    def __iter__(self) -> Any:
        for chunk in self.inner:
            self.chunks.append(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()
        chunks = self.chunks
        self.document = document = json.loads(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        self.owner.record(self, document)


class _LeanEvents(httpx2.SyncByteStream):
    """A chat stream that asked for usage: each event passed on without the usage the
    caller did not ask for (one event per chunk, as the benchmarks' server sends them);
    the usage report is read, and the call recorded, at close."""

    __slots__ = ("inner", "model", "owner", "report", "started", "timestamp")

    def __init__(self, inner: Any, owner: LeanTracker, model: Any, timestamp: datetime) -> None:
        self.inner = inner
        self.owner = owner
        self.model = model
        self.timestamp = timestamp
        self.started = time.perf_counter()
        self.report: Any = None

    def __iter__(self) -> Any:
        for chunk in self.inner:
            cut = chunk.removesuffix(_NULL_USAGE)
            if len(cut) < len(chunk):
                yield cut + b"}\n\n"
            elif b'"choices":[],' in chunk:  # the usage report: kept, not passed on
                self.report = json.loads(chunk[6:])
            else:
                yield chunk

    def close(self) -> None:
        self.inner.close()
        if self.report is not None:
            self.owner.record(self, self.report, stream=True)


_NULL_USAGE = b', "usage": null}\n\n'
_ASK_USAGE = b',"stream_options":{"include_usage":true}}'


class LeanTracker(httpx2.BaseTransport):
    """The floor transport (see the module docstring), recording into ``tracker``."""

    def __init__(self, inner: Any, tracker: TokenTracker) -> None:
        self.inner = inner
        self.tracker = tracker

    def handle_request(self, request: Any) -> Any:
        url = request.url
        if (url.host, url.path) not in _ROUTES:
            return self.inner.handle_request(request)
        sent = json.loads(request.content)
        model = sent.get("model")
        timestamp = datetime.now(timezone.utc)
        if sent.get("stream") is True:  # ask for usage, on a copy of the request
            response = self.inner.handle_request(_with_usage(request))
            response.stream = _LeanEvents(response.stream, self, model, timestamp)
            return response
        response = self.inner.handle_request(request)
        response.stream = body = _LeanBody(response.stream, self, model, timestamp)
        response.json = body.json
        return response

    def record(self, body: _LeanBody | _LeanEvents, document: Any, stream: bool = False) -> None:
        """Read, price and record the call ``body`` ended, from its ``document``."""
        raw_usage = document["usage"]
        model = document["model"]
        tier = document.get("service_tier")
        usage = normalise_openai_usage(raw_usage)
        prices = self.tracker._prices
        cost = prices.cost("openai", model, usage, tier, False, body.timestamp)
        record = make_record(
            body.timestamp,
            "openai",
            model,
            "chat",
            usage,
            cost,
            body.model,
            200,
            (time.perf_counter() - body.started) * 1000.0,
            None,
            document["id"],
            stream,
            False,
            None,
            tier,
            None,
            _NO_TAGS,
            raw_usage,
            prices.version(),
            None,
            None,
        )
        self.tracker._ledger.record(record)


def _with_usage(request: Any) -> Any:
    """A copy of ``request`` whose compact JSON body also asks for the stream's usage."""
    body = request.content[:-1] + _ASK_USAGE
    headers = httpx2.Headers(request.headers)
    headers["Content-Length"] = str(len(body))
    sent = object.__new__(httpx2.Request)
    for name, value in vars(request).items():
        setattr(sent, name, value)
    sent.headers = headers
    sent.extensions = dict(request.extensions)
    sent.stream = httpx2.ByteStream(body)
    sent._content = body
    return sent
