"""A non-streamed JSON answer through an exchange: kept as it passes, read once, recorded once."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from decimal import Decimal

import pytest

from tokenbudget import Usage

from .fakes import (
    BILLED_MODEL,
    JSON_HEADERS,
    KIND,
    PRICE_VERSION,
    PROVIDER,
    REPORTED,
    REQUEST_MODEL,
    FakeHandler,
    FakeLibrary,
    json_body,
    make_exchange,
    price_of,
    run,
    split_at,
)


def test_json_answer_is_read_once_at_finish_and_recorded() -> None:
    library, handler = FakeLibrary(), FakeHandler()
    exchange = make_exchange(library, handler, tags={"team": "core"})
    body = json_body()
    chunks = split_at(body, [5, 17, 30])

    assert exchange.start_response(200, JSON_HEADERS) == []
    assert [exchange.feed(chunk) for chunk in chunks] == chunks
    assert exchange.end_of_body() == b""
    assert handler.the_reader.bodies == [], "a JSON body is read when the call ends, not before"
    record = exchange.finish()

    assert handler.the_reader.bodies == [body]
    assert record is not None
    assert library.records == [record]
    assert record.provider == PROVIDER and record.endpoint == KIND
    assert record.usage == REPORTED and not record.estimated
    assert record.model == BILLED_MODEL, "the response's model is the billed one"
    assert record.request_model == REQUEST_MODEL
    assert record.cost_usd == price_of(BILLED_MODEL, REPORTED) == Decimal("0.25")
    assert record.price_version == PRICE_VERSION
    assert record.status_code == 200
    assert record.request_id == "req-1"
    assert record.latency_ms is not None and record.latency_ms >= 0
    assert record.tags == {"team": "core"}
    assert record.raw_usage == {"in": 11, "out": 7}
    assert record.error is None and record.succeeded
    assert not record.stream and not record.cached
    assert library.priced == [(PROVIDER, BILLED_MODEL, REPORTED, None, False, exchange.timestamp)]


def test_finish_twice_returns_the_same_record_and_records_once() -> None:
    library = FakeLibrary()
    exchange = make_exchange(library)
    _, record = run(exchange, 200, JSON_HEADERS, [json_body()])

    assert exchange.finish() is record
    assert exchange.finish(RuntimeError("late")) is record
    assert library.records == [record]
    assert len(library.priced) == 1


def test_the_request_model_is_billed_when_the_answer_names_none() -> None:
    _, record = run(make_exchange(), 200, JSON_HEADERS, [json_body(model=None)])

    assert record.model == record.request_model == REQUEST_MODEL
    assert record.cost_usd == price_of(REQUEST_MODEL, REPORTED)


def test_an_unpriced_model_is_recorded_with_its_tokens_and_no_cost() -> None:
    _, record = run(make_exchange(), 200, JSON_HEADERS, [json_body(model="mystery-1")])

    assert record.model == "mystery-1"
    assert record.usage == REPORTED
    assert record.cost_usd is None and not record.priced


@pytest.mark.parametrize(
    ("name", "expected"),
    [("x-request-id", "abc"), ("request-id", "abc"), ("X-Request-Id", "abc"), ("x-other", None)],
)
def test_request_id_header(name: str, expected: str | None) -> None:
    headers = {"content-type": "application/json", name: "abc"}
    _, record = run(make_exchange(), 200, headers, [json_body()])

    assert record.request_id == expected


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate
        ("gzip, deflate", lambda data: zlib.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
)
def test_an_encoded_json_answer_is_read_decoded_and_passed_on_encoded(
    encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    handler = FakeHandler()
    body = json_body()
    encoded = encode(body)
    chunks = split_at(encoded, [1, 9, len(encoded) - 3])
    headers = {**JSON_HEADERS, "content-encoding": encoding}

    out, record = run(make_exchange(handler=handler), 200, headers, chunks)

    assert out == encoded, "the caller gets the original, still encoded bytes"
    assert handler.the_reader.bodies == [body]
    assert record.usage == REPORTED and not record.estimated


def test_an_answer_in_an_unknown_encoding_is_passed_on_and_estimated(
    tb_warnings: Callable[[], list[str]],
) -> None:
    handler = FakeHandler()
    headers = {**JSON_HEADERS, "content-encoding": "compress"}
    chunks = [b"\x1f\x9d", b"not readable here"]

    out, record = run(make_exchange(handler=handler), 200, headers, chunks)

    assert out == b"".join(chunks)
    assert record.usage.estimated
    assert record.error is None
    assert len(tb_warnings()) == 1


def test_a_free_endpoint_records_zero_usage_without_reading_or_pricing() -> None:
    library, handler = FakeLibrary(), FakeHandler()
    exchange = make_exchange(library, handler, billable=False)

    out, record = run(exchange, 200, JSON_HEADERS, [json_body()])

    assert out == json_body()
    assert handler.readers == [] and library.priced == []
    assert record.usage == Usage() and record.cost_usd == 0
    assert record.error is None
