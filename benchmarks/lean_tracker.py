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

The request copy, pricing, record and ledger steps use private names on purpose
(``_with_body``, ``_prices``, ``_ledger``, ``make_record``): the floor must cost what the
library's own pieces cost, and the public ways (``httpx2.Request(...)``, ``PriceBook.cost``,
``CallRecord(...)``, ``add_record``) take slower paths made for occasional use.
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


class _LeanStream(httpx2.SyncByteStream):
    """What a call's body keeps for its record: the call's model, timestamp and clock."""

    __slots__ = ("inner", "model", "owner", "started", "timestamp")

    def __init__(self, inner: Any, owner: LeanTracker, model: Any, timestamp: datetime) -> None:
        self.inner = inner
        self.owner = owner
        self.model = model
        self.timestamp = timestamp
        self.started = time.perf_counter()


class _LeanBody(_LeanStream):
    """A JSON body: passed on chunk by chunk, read and recorded at close."""

    __slots__ = ("chunks", "document")

    def __init__(self, inner: Any, owner: LeanTracker, model: Any, timestamp: datetime) -> None:
        super().__init__(inner, owner, model, timestamp)
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


class _LeanEvents(_LeanStream):
    """A chat stream that asked for usage: each event passed on without the usage the
    caller did not ask for (one event per chunk, as the benchmarks' server sends them);
    the usage report is read, and the call recorded, at close."""

    __slots__ = ("report",)

    def __init__(self, inner: Any, owner: LeanTracker, model: Any, timestamp: datetime) -> None:
        super().__init__(inner, owner, model, timestamp)
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
        # A request copied with a new body as tokenbudget's transports copy it: field by
        # field (building a new httpx2.Request encodes and parses everything again, which
        # would put 3% of a call on this floor's time to first chunk).
        self._with_body = tracker.httpx_client("httpx2", transport=inner)._transport._with_body

    def handle_request(self, request: Any) -> Any:
        url = request.url
        if (url.host, url.path) not in _ROUTES:
            return self.inner.handle_request(request)
        sent = json.loads(request.content)
        model = sent.get("model")
        timestamp = datetime.now(timezone.utc)
        if sent.get("stream") is True:  # ask for usage, on a copy of the request
            body = request.content[:-1] + _ASK_USAGE  # (a compact body: "}" ends it)
            response = self.inner.handle_request(self._with_body(request, body))
            response.stream = _LeanEvents(response.stream, self, model, timestamp)
            return response
        response = self.inner.handle_request(request)
        response.stream = body = _LeanBody(response.stream, self, model, timestamp)
        response.json = body.json
        return response

    def record(self, body: _LeanStream, document: Any, stream: bool = False) -> None:
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
