"""The cache port: a miss stores a complete answer, a hit is replayed and costs nothing."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest

from tokenbudget._core import Exchange, StoredResponse, split_events

from .fakes import (
    BILLED_MODEL,
    JSON_HEADERS,
    REPORTED,
    SSE_BODY,
    SSE_EVENTS,
    SSE_HEADERS,
    FakeCache,
    FakeHandler,
    FakeLibrary,
    hide_usage_and_shout,
    json_body,
    make_exchange,
    price_of,
    respond,
    run,
    split_at,
)


def cached_exchange(
    cache: FakeCache, *, stream: bool = False, handler: FakeHandler | None = None
) -> tuple[FakeLibrary, Exchange]:
    library = FakeLibrary(cache=cache)
    return library, make_exchange(library, handler, stream=stream)


def replay(exchange: Exchange, answer: StoredResponse) -> bytes:
    """Drive a stored answer through ``exchange`` as the tracking transport does."""
    exchange.request_body()  # lets the provider set up its event filter
    chunks = split_events(answer.body) if answer.stream else [answer.body]
    return respond(exchange, answer.status_code, dict(answer.headers), chunks)


def test_a_miss_sets_the_key_to_store_under() -> None:
    _, exchange = cached_exchange(FakeCache())

    assert exchange.lookup_cache() is None
    assert exchange.cache_key == exchange.request.body.decode()
    assert not exchange.cached


@pytest.mark.parametrize("encoded", [False, True], ids=["identity", "gzip"])
def test_a_complete_json_answer_is_stored_decoded(encoded: bool) -> None:
    cache = FakeCache()
    _, exchange = cached_exchange(cache)
    exchange.lookup_cache()
    body = json_body()
    headers = {**JSON_HEADERS, "content-encoding": "gzip"} if encoded else JSON_HEADERS
    wire = gzip.compress(body) if encoded else body

    run(exchange, 200, headers, split_at(wire, [6]))

    assert cache.stored == [
        (exchange.cache_key, StoredResponse(200, tuple(headers.items()), body, stream=False))
    ]


def test_a_complete_stream_is_stored_decoded() -> None:
    cache = FakeCache()
    _, exchange = cached_exchange(cache, stream=True)
    exchange.lookup_cache()
    headers = {**SSE_HEADERS, "content-encoding": "gzip"}

    run(exchange, 200, headers, split_at(gzip.compress(SSE_BODY), [10, 30]))

    ((_, stored),) = cache.stored
    assert stored == StoredResponse(200, tuple(headers.items()), SSE_BODY, stream=True)


def test_a_stream_closed_at_its_end_marker_is_stored() -> None:
    cache = FakeCache()
    _, exchange = cached_exchange(cache, stream=True)
    exchange.lookup_cache()
    exchange.start_response(200, SSE_HEADERS)
    exchange.feed(SSE_BODY)

    exchange.finish()  # closed without end_of_body, after [DONE]

    assert [stored.body for _, stored in cache.stored] == [SSE_BODY]


def _abandoned(exchange: Exchange) -> None:
    exchange.start_response(200, SSE_HEADERS)
    exchange.feed(SSE_EVENTS[0])
    exchange.finish()


def _failed(exchange: Exchange) -> None:
    respond(exchange, 200, SSE_HEADERS, [SSE_BODY])
    exchange.finish(ConnectionResetError("reset"))


def _error_answer(exchange: Exchange) -> None:
    run(exchange, 500, SSE_HEADERS, [b'{"error": "oops"}'])


def _error_event(exchange: Exchange) -> None:
    run(exchange, 200, SSE_HEADERS, [b"event: error\ndata: overloaded\n\n"])


def _unreadable(exchange: Exchange) -> None:
    run(exchange, 200, {**SSE_HEADERS, "content-encoding": "gzip"}, [b"not gzip"])


@pytest.mark.parametrize("end", [_abandoned, _failed, _error_answer, _error_event, _unreadable])
def test_an_incomplete_or_failed_answer_is_not_stored(
    end: Callable[[Exchange], None], tb_warnings: Callable[[], list[str]]
) -> None:
    cache = FakeCache()
    library, exchange = cached_exchange(cache, stream=True)
    exchange.lookup_cache()
    assert exchange.cache_key is not None

    end(exchange)

    assert cache.stored == []
    assert len(library.records) == 1


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_a_hit_is_replayed_at_no_cost_and_records_what_it_saved(stream: bool) -> None:
    body, headers = (SSE_BODY, SSE_HEADERS) if stream else (json_body(), JSON_HEADERS)
    answer = StoredResponse(200, tuple(headers.items()), body, stream=stream)
    key = make_exchange(stream=stream).request.body.decode()
    cache = FakeCache({key: answer})
    library, exchange = cached_exchange(cache, stream=stream)

    assert exchange.lookup_cache() is answer
    assert exchange.cached and exchange.cache_key is None
    out = replay(exchange, answer)
    record = exchange.finish()

    assert out == body
    assert record is not None and library.records == [record]
    assert record.cached and record.cost_usd == 0
    assert record.saved_cost_usd == price_of(BILLED_MODEL, REPORTED)
    assert record.usage == REPORTED and record.model == BILLED_MODEL
    assert cache.stored == [], "a hit is not stored again"


def test_a_replayed_stream_goes_through_the_event_filter() -> None:
    answer = StoredResponse(200, tuple(SSE_HEADERS.items()), SSE_BODY, stream=True)
    key = make_exchange(stream=True).request.body.decode()
    handler = FakeHandler(event_filter=hide_usage_and_shout)
    _, exchange = cached_exchange(FakeCache({key: answer}), stream=True, handler=handler)
    exchange.lookup_cache()

    out = replay(exchange, answer)

    assert b'"usage"' not in out and b'"HEL"' in out
    record = exchange.finish()
    assert record is not None and record.usage == REPORTED


def test_a_cache_whose_lookup_raises_is_a_miss(tb_warnings: Callable[[], list[str]]) -> None:
    cache = FakeCache(lookup_error=OSError("cache file locked"))
    _, exchange = cached_exchange(cache)

    assert exchange.lookup_cache() is None
    assert exchange.cache_key is None and not exchange.cached
    _, record = run(exchange, 200, JSON_HEADERS, [json_body()])

    assert not record.cached and record.cost_usd == price_of(BILLED_MODEL, REPORTED)
    assert cache.stored == []
    assert len(tb_warnings()) == 1


def test_a_cache_whose_store_raises_does_not_reach_the_caller(
    tb_warnings: Callable[[], list[str]],
) -> None:
    cache = FakeCache(store_error=OSError("disk full"))
    library, exchange = cached_exchange(cache)
    exchange.lookup_cache()

    _, record = run(exchange, 200, JSON_HEADERS, [json_body()])

    assert library.records == [record] and record.succeeded
    assert len(tb_warnings()) == 1


def test_without_a_cache_nothing_is_looked_up() -> None:
    exchange = make_exchange(FakeLibrary(cache=None))

    assert exchange.lookup_cache() is None
    assert exchange.cache_key is None


@pytest.mark.parametrize(
    "library",
    [
        pytest.param(
            FakeLibrary(cache=FakeCache(), record_error=OSError("disk full")), id="ledger"
        ),
        pytest.param(
            FakeLibrary(cache=FakeCache(), admit_error=ConnectionError("redis down")), id="admit"
        ),
    ],
)
def test_a_failure_outside_the_reading_still_stores_the_answer(library: FakeLibrary) -> None:
    """Only a failure to read the answer makes it unfit to replay; a port failing does not."""
    exchange = make_exchange(library)
    exchange.lookup_cache()
    exchange.admit()

    _, record = run(exchange, 200, JSON_HEADERS, [json_body()])

    assert record.usage == REPORTED and not record.usage.estimated
    assert library.cache is not None and len(library.cache.stored) == 1
