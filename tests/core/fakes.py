"""Fakes that drive an :class:`~tokenbudget._core.Exchange` with no HTTP library and no tracker.

The fake provider's wire format is tiny. A JSON answer is
``{"model": ..., "usage": {"in": n, "out": m}}``. An SSE answer carries
``{"text": ...}`` pieces, then an event named ``usage`` with the same object as
a JSON answer, then ``data: [DONE]`` (its end marker); an event named ``error``
reports a failure inside a 200 answer. The fake library around the exchange
(pricer, ledger, budgets, cache) keeps everything it is handed, for assertions.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from tokenbudget import CallRecord, Usage
from tokenbudget._core import (
    Endpoint,
    EventFilter,
    Exchange,
    Observation,
    Ports,
    RequestView,
    ServerSentEvent,
    StoredResponse,
    UsageReader,
)

PROVIDER = "fake"
KIND = "chat"
REQUEST_MODEL = "fake-small"
BILLED_MODEL = "fake-large"
#: Input tokens the fake handler counts for any request (its estimate).
ESTIMATED_INPUT = 7
PRICE_VERSION = "prices-test-1"
#: Dollars per token, (input, output), by model; other models are unpriced.
PRICES = {
    REQUEST_MODEL: (Decimal("0.001"), Decimal("0.002")),
    BILLED_MODEL: (Decimal("0.01"), Decimal("0.02")),
}

JSON_HEADERS = {"content-type": "application/json", "x-request-id": "req-1"}
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "x-request-id": "req-1"}

#: What every fake answer below reports.
REPORTED = Usage(input_tokens=11, output_tokens=7)


def price_of(model: str, usage: Usage) -> Decimal:
    """The fake price book's cost of ``usage``, computed on its own for assertions."""
    per_input, per_output = PRICES[model]
    return usage.input_tokens * per_input + usage.output_tokens * per_output


def json_body(model: str | None = BILLED_MODEL, usage: Usage = REPORTED) -> bytes:
    """A fake JSON answer."""
    document: dict[str, Any] = {"usage": {"in": usage.input_tokens, "out": usage.output_tokens}}
    if model is not None:
        document["model"] = model
    return json.dumps(document).encode()


#: A fake SSE answer, one item per dispatched event (the first starts with a comment).
#: CRLF and LF line endings, a multi-byte character and a multi-line ``data`` field.
SSE_EVENTS = (
    b': keep-alive\r\n\r\ndata: {"text": "Hel"}\r\n\r\n',
    b'data: {"text": "lo \xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80"}\n\n',
    b'event: usage\r\ndata: {"model": "fake-large",\r\n'
    b'data:  "usage": {"in": 11, "out": 7}}\r\n\r\n',
    b"data: [DONE]\n\n",
)
SSE_BODY = b"".join(SSE_EVENTS)
#: The text pieces :data:`SSE_BODY` carries.
SSE_TEXT = ["Hel", "lo été 😀"]


def hide_usage_and_shout(event: ServerSentEvent) -> bytes:
    """An event filter that drops the ``usage`` event and rewrites the first text piece."""
    if event.event == "usage":
        return b""
    return event.raw.replace(b'"Hel"', b'"HEL"')


#: :data:`SSE_BODY` as :func:`hide_usage_and_shout` lets the caller see it.
SSE_FILTERED = b"".join(SSE_EVENTS[i] for i in (0, 1, 3)).replace(b'"Hel"', b'"HEL"')


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """``data`` cut at the given offsets (in any order; duplicates and ends ignored)."""
    points = [0, *sorted({cut for cut in cuts if 0 < cut < len(data)}), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(points)]


class FakeReader(UsageReader):
    """Reads the fake provider's answers; keeps every body and event it was given."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self.bodies: list[bytes] = []
        self.events: list[ServerSentEvent] = []

    def on_body(self, body: bytes) -> None:
        self.bodies.append(body)
        super().on_body(body)

    def on_json(self, document: Any) -> None:
        observation = self.observation
        if document.get("model"):
            observation.model = document["model"]
        if document.get("text"):
            observation.output_text.append(document["text"])
        usage = document.get("usage")
        if usage is not None:
            observation.usage = Usage(input_tokens=usage["in"], output_tokens=usage["out"])
            observation.raw_usage = usage

    def on_event(self, event: ServerSentEvent) -> None:
        self.events.append(event)
        if event.data == "[DONE]":
            self.observation.complete = True
        elif event.event == "error":
            self.observation.error = event.data
        else:
            self.on_json(json.loads(event.data))


class FakeHandler:
    """The fake provider, as the core asks it (``EndpointHandler``); counts what it is asked.

    Args:
        reader: the reader class for its responses.
        event_filter: what :meth:`event_filter` gives for every endpoint.
        prepared: the body :meth:`prepare` returns for a stream (usage asked for;
            it marks the endpoint's usage injected). Other requests are left alone.
    """

    name = PROVIDER

    def __init__(
        self,
        *,
        reader: type[FakeReader] = FakeReader,
        event_filter: EventFilter | None = None,
        prepared: bytes | None = None,
    ) -> None:
        self.reader_type = reader
        self.filter = event_filter
        self.prepared = prepared
        self.readers: list[FakeReader] = []
        self.prepare_calls = 0
        self.estimates: list[Observation] = []

    @property
    def the_reader(self) -> FakeReader:
        """The one reader made so far."""
        (reader,) = self.readers
        return reader

    def prepare(self, endpoint: Endpoint, request: RequestView) -> bytes | None:
        self.prepare_calls += 1
        if self.prepared is None or not endpoint.stream:
            return None
        endpoint.usage_injected = True
        return self.prepared

    def event_filter(self, endpoint: Endpoint) -> EventFilter | None:
        return self.filter

    def reader(self, endpoint: Endpoint) -> UsageReader:
        reader = self.reader_type(endpoint)
        self.readers.append(reader)
        return reader

    def estimate_usage(
        self, endpoint: Endpoint, request: RequestView, observation: Observation
    ) -> Usage:
        """Keeps what was reported; counts one output token per character of text seen."""
        self.estimates.append(observation)
        counted = sum(len(piece) for piece in observation.output_text)
        reported = observation.usage or Usage(input_tokens=ESTIMATED_INPUT)
        return Usage(
            input_tokens=reported.input_tokens,
            output_tokens=max(counted, reported.output_tokens),
            estimated=True,
        )

    def cacheable(self, endpoint: Endpoint, request: RequestView) -> bool:
        return True

    def estimate_input_tokens(self, endpoint: Endpoint, request: RequestView) -> int:
        return ESTIMATED_INPUT

    def max_output_tokens(self, endpoint: Endpoint, request: RequestView) -> int | None:
        return None

    def max_output_fields(
        self, endpoint: Endpoint, request: RequestView, value: int
    ) -> dict[str, Any]:
        return {"max_tokens": value}


class FakeGuard:
    """One budget's hold on a call (``CallGuard``); raises ``error`` on progress if given."""

    def __init__(self, *, watches_stream: bool = False, error: Exception | None = None) -> None:
        self.watches_stream = watches_stream
        self.error = error
        #: The text pieces observed at each progress check.
        self.progress: list[int] = []
        self.settled: list[CallRecord] = []

    def on_progress(self, exchange: Exchange) -> None:
        observation = exchange.observation
        assert observation is not None
        self.progress.append(len(observation.output_text.pieces))
        if self.error is not None:
            raise self.error

    def settle(self, record: CallRecord) -> None:
        self.settled.append(record)


class FakeCache:
    """A ``ResponseCache`` keyed on the request body; keeps what it is given to store."""

    def __init__(
        self,
        entries: Mapping[str, StoredResponse] | None = None,
        *,
        lookup_error: Exception | None = None,
        store_error: Exception | None = None,
    ) -> None:
        self.entries = dict(entries or {})
        self.lookup_error = lookup_error
        self.store_error = store_error
        self.stored: list[tuple[str, StoredResponse]] = []

    def lookup(self, exchange: Exchange) -> StoredResponse | None:
        if self.lookup_error is not None:
            exchange.cache_key = "set before failing"
            raise self.lookup_error
        key = exchange.request.body.decode()
        found = self.entries.get(key)
        if found is None:
            exchange.cache_key = key
        return found

    def store(self, exchange: Exchange, response: StoredResponse) -> None:
        if self.store_error is not None:
            raise self.store_error
        assert exchange.cache_key is not None
        self.stored.append((exchange.cache_key, response))
        self.entries[exchange.cache_key] = response


class FakeLibrary:
    """The library around an exchange: prices, ledger, budgets and cache, all kept for asserts.

    Args:
        guards: what ``admit`` returns.
        admit_error: what ``admit`` raises instead.
        cache: the response cache port.
        record_error: what the ledger raises when handed a record.
    """

    def __init__(
        self,
        *,
        guards: Sequence[FakeGuard] = (),
        admit_error: Exception | None = None,
        cache: FakeCache | None = None,
        record_error: Exception | None = None,
    ) -> None:
        self.guards = guards
        self.admit_error = admit_error
        self.cache = cache
        self.record_error = record_error
        self.records: list[CallRecord] = []
        self.priced: list[tuple[Any, ...]] = []
        self.admitted: list[Exchange] = []

    def price(
        self,
        provider: str,
        model: str | None,
        usage: Usage,
        service_tier: str | None,
        batch: bool,
        at: datetime,
    ) -> Decimal | None:
        self.priced.append((provider, model, usage, service_tier, batch, at))
        return price_of(model, usage) if model in PRICES else None

    def record(self, record: CallRecord) -> None:
        if self.record_error is not None:
            raise self.record_error
        self.records.append(record)

    def admit(self, exchange: Exchange) -> Sequence[FakeGuard]:
        self.admitted.append(exchange)
        if self.admit_error is not None:
            raise self.admit_error
        return self.guards

    @property
    def ports(self) -> Ports:
        return Ports(
            price=self.price,
            record=self.record,
            admit=self.admit,
            cache=self.cache,
            price_version=lambda: PRICE_VERSION,
        )


def make_request(
    body: Mapping[str, Any] | None = None, *, stream: bool = False, raw: bytes | None = None
) -> RequestView:
    """A request to the fake provider: its JSON body names the request model, or is ``raw``."""
    document = {"model": REQUEST_MODEL, "stream": stream, **(body or {})}
    return RequestView(
        "POST",
        "api.fake.test",
        "/v1/chat",
        headers={"content-type": "application/json"},
        body=json.dumps(document).encode() if raw is None else raw,
    )


def make_exchange(
    library: FakeLibrary | None = None,
    handler: FakeHandler | None = None,
    *,
    stream: bool = False,
    billable: bool = True,
    body: Mapping[str, Any] | None = None,
    raw_body: bytes | None = None,
    tags: Mapping[str, str] | None = None,
    inject_usage: bool = True,
) -> Exchange:
    """An exchange for one fake call, as a tracker would begin it."""
    endpoint = Endpoint(
        PROVIDER,
        KIND,
        handler if handler is not None else FakeHandler(),
        request_model=REQUEST_MODEL,
        stream=stream,
        billable=billable,
        host="api.fake.test",
    )
    return Exchange(
        (library if library is not None else FakeLibrary()).ports,
        endpoint,
        make_request(body, stream=stream, raw=raw_body),
        owner="tracker",
        tags=tags or {},
        inject_usage=inject_usage,
    )


def respond(
    exchange: Exchange,
    status: int,
    headers: Mapping[str, str],
    chunks: Iterable[bytes],
    *,
    on_chunk: Callable[[int], None] | None = None,
) -> bytes:
    """Drive the response through ``exchange`` as a tracked stream does; returns the caller's bytes.

    ``on_chunk(i)`` runs after chunk ``i`` was fed. The call is not finished.
    """
    exchange.start_response(status, headers)
    out = []
    for i, chunk in enumerate(chunks):
        out.append(exchange.feed(chunk))
        if on_chunk is not None:
            on_chunk(i)
    out.append(exchange.end_of_body())
    return b"".join(out)


def run(
    exchange: Exchange, status: int, headers: Mapping[str, str], chunks: Iterable[bytes]
) -> tuple[bytes, CallRecord]:
    """A whole call read to its end: the caller's bytes and the record."""
    out = respond(exchange, status, headers, chunks)
    record = exchange.finish()
    assert record is not None
    return out, record
