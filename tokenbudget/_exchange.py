"""One tracked request/response, independent of any HTTP library (sans-IO).

The transport adapters drive an :class:`Exchange` through its life:

1. ``request_body()`` before sending: the body to send (the provider may ask for
   usage the caller did not ask for);
2. ``start_response(status, headers)`` when the response head arrives;
3. ``feed(chunk)`` for every raw body chunk, returning the bytes the caller gets
   (the chunk itself, unless an event filter hides something);
4. ``end_of_body()`` when the body is exhausted, returning any held-back bytes;
5. ``finish(error)`` when the response closes, normally or not: records the call
   exactly once.

No method lets an exception of tokenbudget's own escape into the user's call: a
failure is logged once, the call is recorded with what is known, and the bytes
pass through untouched.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._data import CallRecord, TokenBudgetError, Usage, make_record, make_usage
from ._decoders import IDENTITY, ContentDecoder, decoder_for
from ._hooks import CallGuard, StoredResponse
from ._sse import ServerSentEvent, SSEDecoder
from ._tags import current_tags
from .providers._base import Endpoint, EventFilter, Observation, RequestView, UsageReader

if TYPE_CHECKING:
    from ._tracker import TokenTracker

__all__ = ["SENDING", "Exchange"]

logger = logging.getLogger("tokenbudget")

#: A non-streamed JSON body larger than this is passed on but not parsed.
MAX_JSON_BODY = 64 * 1024 * 1024
#: An answer larger than this (decoded) is passed on but not cached.
MAX_CACHED_BODY = 32 * 1024 * 1024

_ZERO = Decimal(0)
_warned: set[str] = set()

#: The exchange whose request the tracking transport is sending in this context
#: (set around the inner transport's call). A second tracking transport below it
#: sees the same HTTP call: its budgets skip those that already hold the call.
SENDING: ContextVar[Exchange | None] = ContextVar("tokenbudget_sending", default=None)


def warn_once(key: str, message: str, *args: object) -> None:
    """Log a warning the first time ``key`` is seen in this process."""
    if key not in _warned:
        _warned.add(key)
        logger.warning(message, *args)


class Exchange:
    """The life of one tracked call; see the module docstring for the protocol."""

    # Slots, every one set in __init__: attribute reads are then the interpreter's
    # fastest kind (a read falling back to a class-level default is its slowest).
    __slots__ = (
        "_body_copy",
        "_body_size",
        "_broken",
        "_decoder",
        "_ended",
        "_filter",
        "_json_chunks",
        "_json_size",
        "_mode",
        "_reader",
        "_request_id",
        "_sse",
        "_started",
        "_status",
        "_stored_headers",
        "_watchers",
        "body_overrides",
        "cache_key",
        "cached",
        "endpoint",
        "finished",
        "guards",
        "record",
        "request",
        "tags",
        "timestamp",
        "tracker",
    )

    def __init__(self, tracker: TokenTracker, endpoint: Endpoint, request: RequestView) -> None:
        self.tracker = tracker
        self.endpoint = endpoint
        self.request = request
        self.timestamp = datetime.now(timezone.utc)
        self.tags = current_tags()
        self._started = time.perf_counter()
        #: Top-level JSON fields to set in the request body (e.g. a clamped max_tokens).
        self.body_overrides: dict[str, Any] = {}
        #: Budgets holding this call (see ``_hooks``); settled when it is recorded.
        self.guards: Sequence[CallGuard] = ()
        #: True when the answer is replayed from the cache.
        self.cached = False
        #: Set by the cache on a miss: store a complete answer under this key.
        self.cache_key: str | None = None
        #: True once :meth:`finish` has recorded the call.
        self.finished = False
        self.record: CallRecord | None = None
        self._status: int | None = None
        self._request_id: str | None = None
        self._mode = "skip"  # "json", "sse", "skip", or "decoded" after a filter failed
        self._decoder: ContentDecoder | None = None
        self._sse: SSEDecoder | None = None
        self._filter: EventFilter | None = None
        self._reader: UsageReader | None = None
        self._json_chunks: list[bytes] | None = None
        self._json_size = 0
        self._ended = False
        self._broken = False
        self._watchers: tuple[CallGuard, ...] = ()
        self._body_copy: list[bytes] | None = None
        self._body_size = 0
        self._stored_headers: tuple[tuple[str, str], ...] = ()

    # -- request -----------------------------------------------------------------

    def lookup_cache(self) -> StoredResponse | None:
        """A stored answer to replay instead of sending, when the tracker caches."""
        cache = self.tracker._cache
        if cache is None:
            return None
        try:
            answer = cache.lookup(self)
        except Exception:
            self.cache_key = None
            warn_once("cache-lookup", "tokenbudget: cache lookup failed; calling the provider")
            logger.debug("cache lookup failure", exc_info=True)
            return None
        if answer is not None:
            self.cached = True
            self.cache_key = None
        return answer

    def admit(self) -> None:
        """Ask every budget covering this call to let it through; may raise a budget error."""
        try:
            guards = self.tracker._admit(self)
        except TokenBudgetError:
            raise
        except Exception:
            self._fail("admit")
            return
        if guards:
            self.guards = guards
            self._watchers = tuple(guard for guard in guards if guard.watches_stream)

    def request_body(self) -> bytes | None:
        """The body to send instead of the caller's, or ``None`` to send it unchanged.

        Only a stream (usage to ask for) or a budget (a clamp) changes a body.
        """
        if not (self.endpoint.stream or self.body_overrides):
            return None
        body: bytes | None = None
        if self.tracker.inject_stream_usage:
            try:
                body = self.endpoint.handler.prepare(self.endpoint, self.request)
            except Exception:
                self._fail("prepare")
        if self.body_overrides:
            try:
                document = json.loads(body) if body is not None else dict(self.request.json)
                document.update(self.body_overrides)
                body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
            except Exception:
                self._fail("body overrides")
        return body

    # -- response ----------------------------------------------------------------

    def start_response(self, status: int, headers: Mapping[str, str]) -> list[str]:
        """Note the response head; returns header names the caller must not see.

        Headers are dropped only when an event filter rewrites the body: the
        caller then gets decoded bytes of a new length.
        """
        self._status = status
        try:
            head = _wanted_headers(headers)
            self._request_id = head.get("x-request-id") or head.get("request-id")
            if status >= 400 or not self.endpoint.billable:
                return []
            content_type = head.get("content-type", "").lower()
            self._reader = self.endpoint.handler.reader(self.endpoint)
            self._decoder = decoder_for(head.get("content-encoding"))
            if self.cache_key is not None and 200 <= status < 300:
                # The cache keeps only the headers it deems safe (ResponseCache.store).
                self._body_copy = []
                self._stored_headers = tuple(_header_items(headers))
            if "text/event-stream" in content_type:
                self._mode = "sse"
                self._filter = self.endpoint.handler.event_filter(self.endpoint)
                self._sse = SSEDecoder(keep_raw=self._filter is not None)
                if self._filter is not None:
                    return ["content-encoding", "content-length"]
            else:
                self._mode = "json"
                self._json_chunks = []
        except Exception:
            self._fail("response head")
        return []

    def feed(self, chunk: bytes) -> bytes:
        """Observe one raw chunk; returns the bytes to pass to the caller."""
        mode = self._mode
        if mode == "json":
            if self._json_size <= MAX_JSON_BODY:
                self._json_chunks.append(chunk)  # type: ignore[union-attr]
                self._json_size += len(chunk)
            return chunk
        if mode == "skip" or (self._broken and self._filter is None):
            return chunk
        if mode == "decoded":
            return self._passthrough_decoded(chunk)
        try:
            assert self._decoder is not None and self._sse is not None
            decoded = chunk if self._decoder is IDENTITY else self._decoder.decode(chunk)
            if self._body_copy is not None:
                self._copy(decoded)
            out = self._on_events(self._sse.feed(decoded))
        except Exception:
            return self._stop_filtering(chunk)
        if self._watchers:
            self._check_progress()
        return out if self._filter is not None else chunk

    def end_of_body(self) -> bytes:
        """The body is exhausted; returns bytes held back by a filter, if any."""
        self._ended = True
        if self._mode != "sse" or (self._broken and self._filter is None):
            return b""
        try:
            assert self._decoder is not None and self._sse is not None
            tail = self._decoder.flush()
            if self._body_copy is not None and tail:
                self._copy(tail)
            events = self._sse.feed(tail)
            events.extend(self._sse.flush())
            out = self._on_events(events)
            return out + self._sse.take_tail() if self._filter is not None else b""
        except Exception:
            return self._stop_filtering(b"")

    def _on_events(self, events: list[ServerSentEvent]) -> bytes:
        reader = self._reader
        assert reader is not None
        event_filter = self._filter
        out = b""
        for event in events:
            if not self._broken:
                try:
                    reader.on_event(event)
                except Exception:
                    self._fail("stream event")
            if event_filter is not None:
                try:
                    out += event_filter(event)
                except Exception:
                    self._fail("event filter")
                    out += event.raw
        return out

    def _check_progress(self) -> None:
        for guard in self._watchers:
            try:
                guard.on_progress(self)
            except TokenBudgetError:
                raise
            except Exception:
                self._fail("budget progress")

    def _copy(self, decoded: bytes) -> None:
        """Keep the decoded body for the cache, up to a bound; past it, store nothing."""
        assert self._body_copy is not None
        self._body_size += len(decoded)
        if self._body_size > MAX_CACHED_BODY:
            self._body_copy = None
            self.cache_key = None
        else:
            self._body_copy.append(decoded)

    def _stop_filtering(self, chunk: bytes) -> bytes:
        """The SSE or content decoder failed: stop reading, keep the caller's bytes whole."""
        self._fail("stream")
        if self._filter is None:
            return chunk
        # The caller is getting decoded bytes with the encoding headers removed:
        # hand over what the SSE decoder held back, then decode whatever follows.
        assert self._sse is not None
        self._filter = None
        self._mode = "decoded"
        return self._sse.take_tail()

    def _passthrough_decoded(self, chunk: bytes) -> bytes:
        """Decoded bytes for a caller whose content-encoding header was removed."""
        try:
            assert self._decoder is not None
            return self._decoder.decode(chunk)
        except Exception:
            return b""

    # -- settle ------------------------------------------------------------------

    def finish(self, error: BaseException | None = None) -> CallRecord | None:
        """Record the call, once; later calls return the same record."""
        if self.finished:
            return self.record
        self.finished = True
        try:
            self.record = self._build_record(error)
        except Exception:
            self._fail("record")
            self.record = self._fallback_record(error)
        try:
            self.tracker._ledger.record(self.record)
        except Exception:
            self._fail("ledger")
        for guard in self.guards:
            try:
                guard.settle(self.record)
            except Exception:
                self._fail("budget settle")
        if self.cache_key is not None and self._body_copy is not None:
            self._store(self.record)
        return self.record

    def _store(self, record: CallRecord) -> None:
        """Hand a complete 2xx answer to the cache; abandoned or failed ones are not kept."""
        cache = self.tracker._cache
        if cache is None or not record.succeeded or self._broken or self._status is None:
            return
        if not self._ended and not (self._reader and self._reader.observation.complete):
            return
        assert self._body_copy is not None
        answer = StoredResponse(
            status_code=self._status,
            headers=self._stored_headers,
            body=b"".join(self._body_copy),
            stream=self._mode == "sse",
        )
        try:
            cache.store(self, answer)
        except Exception:
            warn_once("cache-store", "tokenbudget: storing an answer in the cache failed")
            logger.debug("cache store failure", exc_info=True)

    def _build_record(self, error: BaseException | None) -> CallRecord:
        endpoint = self.endpoint
        status = self._status
        observation = self._observe()
        # SDKs stop reading at the provider's end marker (OpenAI's [DONE]) and close
        # the response without draining it: that is a complete call, not an abandoned one.
        if error is not None and not isinstance(error, GeneratorExit):
            error_text: str | None = _describe(error)
        elif observation.error:  # the provider said what went wrong (an SSE error event)
            error_text = observation.error
        elif not (self._ended or observation.complete or self._mode == "skip"):
            error_text = "abandoned"
        else:
            error_text = None

        if status is None or status >= 400 or not endpoint.billable:
            if status is not None and status >= 400:
                error_text = error_text or f"HTTP {status}"
            return self._make_record(make_usage(), _ZERO, observation, error_text)

        incomplete = endpoint.stream and not observation.complete
        usage = observation.usage
        if usage is None or incomplete or self._broken:
            usage = endpoint.handler.estimate_usage(endpoint, self.request, observation)
        model = observation.model or endpoint.request_model
        tier = observation.service_tier or endpoint.service_tier
        cost = self.tracker._price(
            endpoint.provider, model, usage, tier, endpoint.batch, self.timestamp
        )
        if self.cached:
            return self._make_record(usage, _ZERO, observation, error_text, saved=cost)
        return self._make_record(usage, cost, observation, error_text)

    def _observe(self) -> Observation:
        reader = self._reader
        if reader is None:
            return Observation()
        if self._mode == "json" and self._json_chunks and not self._broken:
            self._read_json(reader)
        try:
            return reader.result()
        except Exception:
            self._fail("reader result")
            return Observation()

    def _read_json(self, reader: UsageReader) -> None:
        if self._json_size > MAX_JSON_BODY:
            message = "tokenbudget: response body over %d bytes not parsed"
            warn_once("json-size", message, MAX_JSON_BODY)
            self._broken = True
            return
        try:
            chunks, self._json_chunks = self._json_chunks, None
            decoder = self._decoder
            assert chunks is not None and decoder is not None
            raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            body = raw if decoder is IDENTITY else decoder.decode(raw) + decoder.flush()
            if self._body_copy is not None:
                self._copy(body)
            reader.on_body(body)
        except Exception:
            self._fail("json body")

    def _make_record(
        self,
        usage: Usage,
        cost: Decimal | None,
        observation: Observation,
        error: str | None,
        saved: Decimal | None = None,
    ) -> CallRecord:
        endpoint = self.endpoint
        return make_record(
            self.timestamp,
            endpoint.provider,
            observation.model or endpoint.request_model,
            endpoint.kind,
            usage,
            cost,
            request_model=endpoint.request_model,
            status_code=self._status,
            latency_ms=(time.perf_counter() - self._started) * 1000.0,
            request_id=self._request_id,
            response_id=observation.response_id,
            stream=endpoint.stream,
            cached=self.cached,
            saved_cost_usd=saved,
            service_tier=observation.service_tier or endpoint.service_tier,
            error=error,
            tags=self.tags,
            raw_usage=observation.raw_usage,
            price_version=self.tracker._price_version,
        )

    def _fallback_record(self, error: BaseException | None) -> CallRecord:
        return self._make_record(
            Usage(estimated=True), None, Observation(), _describe(error) if error else None
        )

    def _fail(self, where: str) -> None:
        """Our own failure: stop parsing this exchange, log once per place and kind."""
        self._broken = True
        endpoint = self.endpoint
        key = f"{endpoint.provider}:{endpoint.kind}:{where}"
        if key not in _warned:
            _warned.add(key)
            logger.warning(
                "tokenbudget: could not read %s %s response (%s); the call is recorded "
                "as estimated and its response passed on unchanged",
                endpoint.provider,
                endpoint.kind,
                where,
                exc_info=True,
            )


_WANTED = frozenset(("content-type", "content-encoding", "x-request-id", "request-id"))
_WANTED_RAW = frozenset(name.encode() for name in _WANTED)


def _wanted_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The few response headers the exchange reads, by lower-case name."""
    raw = getattr(headers, "raw", None)
    if raw is None:
        return {k.lower(): v for k, v in headers.items() if k.lower() in _WANTED}
    # httpx Headers: scan the raw byte pairs and decode only the wanted ones,
    # instead of decoding every header a provider sends (twenty or more).
    found = {}
    for key, value in raw:
        key = key.lower()
        if key in _WANTED_RAW:
            found[key.decode("ascii")] = value.decode("latin-1")
    return found


def _header_items(headers: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """Every (name, value) pair, repeated names included, of an httpx or plain mapping."""
    multi_items = getattr(headers, "multi_items", None)
    return multi_items() if multi_items is not None else headers.items()


def _describe(error: BaseException) -> str:
    name = type(error).__name__
    if name == "CancelledError":
        return "cancelled"
    text = str(error)
    return f"{name}: {text}" if text else name
