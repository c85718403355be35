"""Reading one response as it streams by, without holding it up or changing it.

:class:`ResponseObserver` is the response half of an
:class:`~._exchange.Exchange`. From the response head it picks a :class:`Mode`;
then every raw chunk the caller gets is also decoded (content-encoding) and
read: a JSON body is kept until it ends and read once, an event stream is
decoded event by event and each event handed to the provider's reader (by its
base, :class:`~._filtering.FilteredStream`). The caller gets the provider's
bytes, except where the provider's event filter hides what tokenbudget's own
request change produced.

A failure here (a decoder, a reader, a filter, an event over the size bound)
stops the reading, never the response: from that point the caller's bytes pass
on untouched and the call is recorded as estimated. Nothing already decoded is
held back or dropped. When a filter had the caller get decoded bytes (its
encoding header removed) and the content decoding itself breaks, the caller
gets what was decoded and then :class:`~._decoders.BodyDecodingError`, which the
adapter turns into the error the caller's own client raises for a broken body.

An event filter runs only where what it hides is provably the filter's own:
on an answer read as the caller's SDK reads it. A stream request that asked for
usage is read as an event stream whatever its content-type says (the SDK
parses it so), and an encoding tokenbudget cannot decode is skipped exactly as
httpx skips it (the SDK then gets those bytes as they are).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from time import perf_counter
from typing import Any

from ._decoders import IDENTITY, BodyDecodingError, ContentDecoder, UnsupportedEncoding, decoder_for
from ._endpoint import DataFilter, Endpoint, Observation, UsageReader
from ._filtering import FilteredStream
from ._headers import header_items, wanted_headers
from ._json import loads
from ._log import warn_once
from ._ports import CallGuard, StoredResponse
from ._sse import MAX_EVENT_BYTES, SSEDecoder, SSEError, usual_event_data

__all__ = ["MAX_CACHED_BODY", "MAX_JSON_BODY", "Mode", "ResponseObserver"]

#: A non-streamed JSON body larger than this is passed on but not parsed.
MAX_JSON_BODY = 64 * 1024 * 1024
#: An answer larger than this (decoded) is passed on but not cached.
MAX_CACHED_BODY = 32 * 1024 * 1024
#: The longest data a chunk read by feed's direct entry may carry: its line ("data: "
#: and the data, then "\n") within the SSE decoder's bound on one event.
_MAX_DIRECT_DATA = MAX_EVENT_BYTES - 6


class Mode(Enum):
    """How the observer reads the response body."""

    SKIP = "skip"
    """Not read: no response yet, an error answer, or a free endpoint."""
    JSON = "json"
    """A whole JSON body, kept as it passes and read when it ends."""
    SSE = "sse"
    """An event stream, decoded and read event by event."""


_SKIP, _JSON, _SSE = Mode.SKIP, Mode.JSON, Mode.SSE


class ResponseObserver(FilteredStream):
    """Decodes and reads a response as it passes; see the module docstring.

    The exchange sets :attr:`endpoint` and :attr:`cache_key` (a key means: keep
    a copy of the decoded body for the cache) before the response head comes.
    """

    # Slots, every one set in __init__ (its base's too): attribute reads are then the
    # interpreter's fastest kind (a read falling back to a class-level default is its
    # slowest).
    __slots__ = (
        "_body_copy",
        "_body_size",
        "_broken",
        "_data_filter",
        "_decoder",
        "_direct",
        "_ended",
        "_json_chunks",
        "_json_size",
        "_may_direct",
        "_mode",
        "_reader",
        "_shared",
        "_stored_headers",
        "_watchers",
        "cache_key",
        "endpoint",
        "first_chunk_at",
        "request_id",
        "share_json",
        "status_code",
    )

    # Set by start_response for the mode it picks (see the end of __init__).
    _decoder: ContentDecoder
    _body_size: int
    _stored_headers: tuple[tuple[str, str], ...]
    _json_chunks: list[bytes] | None
    _json_size: int
    _data_filter: Callable[[bytes, bytes], bytes] | None
    _reader: UsageReader | None

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        #: Set by the cache on a miss: store a complete answer under this key.
        self.cache_key: str | None = None
        #: The response's status code; ``None`` until its head arrives.
        self.status_code: int | None = None
        #: The provider's request id header (``x-request-id`` or ``request-id``).
        self.request_id: str | None = None
        self._mode = _SKIP
        self._reader = None
        self._direct = False  # the next chunk may take feed's direct entry
        self._ended = False
        self._broken = False
        self._watchers: tuple[CallGuard, ...] = ()
        self._body_copy: list[bytes] | None = None
        #: The ``perf_counter`` when a stream's first body chunk arrived (``None`` before).
        self.first_chunk_at: float | None = None
        #: Set by an adapter that can hand the caller the JSON document read here
        #: (:meth:`take_shared_json`): the body is then parsed whole, once for both.
        self.share_json = False
        self._shared: tuple[Any, bytes] | None = None
        # The rest is set by start_response for the mode it picks, and read only in it:
        # _decoder; _body_size and _stored_headers with a body copy; _json_chunks and
        # _json_size for JSON; for an event stream FilteredStream's _sse, _filter,
        # _after_cr, _cr_hidden and _gave_up, and _may_direct and _data_filter (see feed).

    @property
    def observation(self) -> Observation | None:
        """What the provider's reader has learnt so far (``None`` before the response)."""
        reader = self._reader
        return reader.observation if reader is not None else None

    @property
    def reads_json(self) -> bool:
        """True when the response is read as one whole JSON body (known from its head on)."""
        return self._mode is _JSON

    def take_shared_json(self) -> tuple[Any, bytes] | None:
        """The document parsed from the whole body and that body, once, for the caller.

        Only with :attr:`share_json` set, and once the call is recorded: ``None`` when
        the body was not parsed whole (a reader that reads its own way, damage). The
        record's ``raw_usage`` is the document's own usage object, not a copy (a copy
        would cost a quarter of what sharing saves).
        """
        shared, self._shared = self._shared, None
        return shared

    @property
    def broken(self) -> bool:
        """True once tokenbudget's own reading failed (the call is then recorded as estimated)."""
        return self._broken

    def start_response(self, status: int, headers: Mapping[str, str]) -> list[str]:
        """Note the response head; returns header names the caller must not see.

        Headers are dropped only when an event filter rewrites the body: the
        caller then gets decoded bytes of a new length.
        """
        self.status_code = status
        try:
            head = wanted_headers(headers)
            self.request_id = head.get("x-request-id") or head.get("request-id")
            endpoint = self.endpoint
            if status >= 400 or not endpoint.billable:
                return []
            self._reader = endpoint.handler.reader(endpoint)
            content_type = head.get("content-type", "").lower()
            if endpoint.stream or "text/event-stream" in content_type:
                return self._start_stream(status, headers, head, content_type)
            encoding = head.get("content-encoding")
            self._decoder = decoder_for(encoding) if encoding else IDENTITY
            if self.cache_key is not None and 200 <= status < 300:
                self._keep_copy(headers)
            self._json_chunks = []
            self._json_size = 0
            self._mode = _JSON
        except Exception:
            self._fail("response head")
        return []

    def _start_stream(
        self, status: int, headers: Mapping[str, str], head: Mapping[str, str], content_type: str
    ) -> list[str]:
        """:meth:`start_response` for a stream request or an event-stream answer."""
        endpoint, reader = self.endpoint, self._reader
        assert reader is not None
        rewrite = endpoint.stream and 200 <= status < 300
        event_filter = endpoint.handler.event_filter(endpoint) if rewrite else None
        encoding = head.get("content-encoding")
        try:
            self._decoder = decoder_for(encoding)
        except UnsupportedEncoding:
            if event_filter is None:
                raise
            self._decoder = decoder_for(encoding, skip_unsupported=True)
        if self.cache_key is not None and 200 <= status < 300:
            self._keep_copy(headers)
        if not (
            "text/event-stream" in content_type
            or event_filter is not None
            or (endpoint.stream and not content_type)
        ):
            self._json_chunks = []
            self._json_size = 0
            self._mode = _JSON
            return []
        self._filter = event_filter
        self._sse = SSEDecoder(keep_raw=event_filter is not None)
        self._after_cr = self._cr_hidden = self._gave_up = False
        self._data_filter = (
            event_filter.filter_data if isinstance(event_filter, DataFilter) else None
        )
        self._may_direct = (
            self._decoder is IDENTITY
            and not self._watchers
            and (event_filter is None or self._data_filter is not None)
            and type(reader).on_data is not UsageReader.on_data
        )
        self._mode = _SSE
        return [] if event_filter is None else ["content-encoding", "content-length"]

    def _keep_copy(self, headers: Mapping[str, str]) -> None:
        """Keep a copy of the decoded body for the cache (a cache miss with a 2xx answer)."""
        # The cache keeps only the headers it deems safe (ResponseCache.store).
        self._body_copy = []
        self._body_size = 0
        self._stored_headers = tuple(header_items(headers))

    def feed(self, chunk: bytes) -> bytes:
        """Observe one raw chunk; returns the bytes to pass to the caller."""
        if self._direct:  # the next chunk may be a stream's usual one (usual_event_data)
            data = usual_event_data(chunk)
            if data is not None and len(data) < _MAX_DIRECT_DATA:
                # With the SSE decoder between events, this is one event that leaves the
                # decoder as it was (SSEDecoder.between_events): read without it, as bytes.
                try:
                    self._reader.on_data(data)  # type: ignore[union-attr]
                except Exception:
                    self._fail("stream event")
                if self._body_copy is not None:
                    self._copy(chunk)
                if self._data_filter is None:
                    return chunk
                try:
                    return self._data_filter(chunk, data)
                except Exception:
                    self._fail("event filter")
                    return chunk
        mode = self._mode
        if mode is _SSE:  # the per-chunk path of a stream: tested first
            if self.first_chunk_at is None:
                self.first_chunk_at = perf_counter()
                if self._may_direct and chunk[:6] == b"data: ":
                    # No BOM at the start: the decoder is between events already, and the
                    # usual first chunk takes the direct entry like the ones after it.
                    sse = self._sse
                    assert sse is not None
                    sse.no_bom()
                    self._direct = sse.between_events()
                    if self._direct:
                        return self.feed(chunk)
            if self._broken and self._filter is None:
                return chunk
            try:
                decoded = chunk if self._decoder is IDENTITY else self._decoder.decode(chunk)  # type: ignore[union-attr]
            except Exception as error:
                return self._undecodable(chunk, error)
            if self._body_copy is not None:
                self._copy(decoded)
            try:
                events = self._sse.feed(decoded)  # type: ignore[union-attr]
            except Exception as error:
                return self._unreadable(chunk, error)
            out = self._on_events(events)
            if self._watchers:
                self._check_progress()
            if self._may_direct and not self._broken:
                self._direct = self._sse.between_events() and not self._after_cr  # type: ignore[union-attr]
            return out if self._filter is not None else chunk
        if mode is _JSON:
            if self._json_size <= MAX_JSON_BODY:
                self._json_chunks.append(chunk)  # type: ignore[union-attr]
                self._json_size += len(chunk)
            return chunk
        return chunk  # not read

    def end_of_body(self) -> bytes:
        """The body is exhausted; returns bytes held back by a filter, if any."""
        self._ended = True
        if self._mode is not _SSE or (self._broken and self._filter is None):
            return b""
        assert self._decoder is not None and self._sse is not None
        try:
            tail = self._decoder.flush()
        except Exception as error:
            return self._undecodable(b"", error)
        if self._body_copy is not None and tail:
            self._copy(tail)
        out = b""
        try:
            events = self._sse.feed(tail) if tail else []
            events.extend(self._sse.flush())
        except Exception as error:
            out = self._unreadable(b"", error)
            if self._filter is None:
                return b""
            try:  # the fresh decoder of a filter that goes on
                events = self._sse.flush()
            except SSEError as again:
                return out + self._on_events(again.events) + self._after_hidden(again.rest)
        out += self._on_events(events)
        return out + self._after_hidden(self._sse.take_tail()) if self._filter is not None else b""

    def _check_progress(self) -> None:
        """Run after each batch of events while guards watch the stream (the exchange's)."""

    def _copy(self, decoded: bytes) -> None:
        """Keep the decoded body for the cache, up to a bound; past it, store nothing."""
        assert self._body_copy is not None
        self._body_size += len(decoded)
        if self._body_size > MAX_CACHED_BODY:
            self._body_copy = None
            self.cache_key = None
        else:
            self._body_copy.append(decoded)

    def _undecodable(self, chunk: bytes, error: Exception) -> bytes:
        """The content decoder failed: stop reading; the caller's bytes stay as they were.

        Without a filter the caller decodes the original bytes itself (and meets
        the damage the same way). With one, its encoding header is gone: it gets
        every decoded byte still held back, then the decoding error.
        """
        self._fail("content decoding")
        if self._filter is None:
            return chunk
        assert self._sse is not None
        owed = self._after_hidden(self._sse.take_pending())
        self._filter = None
        self._mode = _SKIP
        raise BodyDecodingError(str(error), owed) from error

    # -- at the end ----------------------------------------------------------------

    def observe(self) -> Observation:
        """What the response said, read in full (a JSON body is read here, once)."""
        reader = self._reader
        if reader is None:
            return Observation()
        if self._mode is _JSON and self._json_chunks and not self._broken:
            self._read_json(reader)
        elif self._mode is _SSE and not self._broken:
            try:
                reader.catch_up()
            except Exception:
                self._fail("stream event")
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
            if self.share_json and type(reader).reads_document():
                document = loads(body)
                reader.on_json(document)
                self._shared = (document, body)
            else:
                reader.on_body(body)
        except Exception:
            self._fail("json body")

    def abandoned(self, observation: Observation) -> bool:
        """True when the body was left unread before its end and the provider's end marker.

        SDKs stop reading at the end marker (OpenAI's ``[DONE]``) and close the
        response without draining it: that is a complete call, not an abandoned one.
        After an event too large to read, the end marker may have passed unseen:
        such a call is not said to be abandoned, only its usage estimated.
        """
        mode = self._mode
        return not (
            self._ended or observation.complete or mode is _SKIP or (mode is _SSE and self._gave_up)
        )

    def complete_answer(self) -> StoredResponse | None:
        """The decoded answer as the cache keeps it, if it was read whole and unbroken."""
        if self._body_copy is None or self._broken or self.status_code is None:
            return None
        if not self._ended and not (self._reader and self._reader.observation.complete):
            return None
        return StoredResponse(
            status_code=self.status_code,
            headers=self._stored_headers,
            body=b"".join(self._body_copy),
            stream=self._mode is _SSE,
        )

    def _fail(self, where: str) -> None:
        """Our own failure: stop reading this response, log once per place and kind."""
        self._broken = True
        self._direct = self._may_direct = False
        endpoint = self.endpoint
        warn_once(
            f"{endpoint.provider}:{endpoint.kind}:{where}",
            "tokenbudget: could not read %s %s response (%s); the call is recorded "
            "as estimated and its response passed on unchanged",
            endpoint.provider,
            endpoint.kind,
            where,
            exc_info=True,
        )
