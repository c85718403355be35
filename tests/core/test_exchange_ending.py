"""However a call ends (closed early, error answer, failure, our own bug), it is recorded once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tokenbudget import Usage

from .fakes import (
    ESTIMATED_INPUT,
    JSON_HEADERS,
    REPORTED,
    REQUEST_MODEL,
    SSE_BODY,
    SSE_EVENTS,
    SSE_HEADERS,
    SSE_TEXT,
    FakeHandler,
    FakeLibrary,
    FakeReader,
    hide_usage_and_shout,
    json_body,
    make_exchange,
    price_of,
    run,
    split_at,
)

# -- closed early ----------------------------------------------------------------------


def test_a_stream_closed_after_its_first_chunk_is_abandoned_and_estimated() -> None:
    library, handler = FakeLibrary(), FakeHandler()
    exchange = make_exchange(library, handler, stream=True)
    exchange.start_response(200, SSE_HEADERS)
    first = SSE_EVENTS[0] + SSE_EVENTS[1]
    assert exchange.feed(first) == first

    record = exchange.finish()  # the caller closed the response: no error

    assert record is not None and library.records == [record]
    assert record.error == "abandoned" and not record.succeeded
    assert len(handler.estimates) == 1
    assert list(handler.estimates[0].output_text) == SSE_TEXT
    counted = Usage(input_tokens=ESTIMATED_INPUT, output_tokens=len("".join(SSE_TEXT)))
    assert record.usage == counted.with_estimated(
        reason="the stream ended before the provider's end marker"
    )
    assert record.cost_usd == price_of(REQUEST_MODEL, counted)


def test_a_json_answer_closed_before_its_end_is_abandoned_and_estimated() -> None:
    handler = FakeHandler()
    exchange = make_exchange(handler=handler)
    exchange.start_response(200, JSON_HEADERS)
    exchange.feed(json_body()[:10])

    record = exchange.finish()

    assert record is not None
    assert record.error == "abandoned"
    assert record.usage.estimated and len(handler.estimates) == 1


def test_a_stream_closed_after_its_end_marker_is_complete() -> None:
    """SDKs stop reading at the end marker and close without draining the body."""
    library, handler = FakeLibrary(), FakeHandler()
    exchange = make_exchange(library, handler, stream=True)
    exchange.start_response(200, SSE_HEADERS)
    exchange.feed(SSE_BODY)  # no end_of_body(): the caller closed at [DONE]

    record = exchange.finish()

    assert exchange.observation is not None and exchange.observation.complete
    assert record is not None
    assert record.error is None and record.succeeded
    assert record.usage == REPORTED and handler.estimates == []


def test_a_stream_whose_usage_came_but_not_its_end_marker_is_estimated() -> None:
    handler = FakeHandler()
    exchange = make_exchange(handler=handler, stream=True)
    exchange.start_response(200, SSE_HEADERS)
    exchange.feed(b"".join(SSE_EVENTS[:3]))

    record = exchange.finish()

    assert record is not None and record.error == "abandoned"
    # The reported input is kept; the output is counted from the text when that is more.
    counted_output = len("".join(SSE_TEXT))
    assert counted_output > REPORTED.output_tokens
    assert record.usage == Usage(
        REPORTED.input_tokens,
        counted_output,
        estimated=True,
        estimate_reason="the stream ended before the provider's end marker",
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (GeneratorExit(), "abandoned"),  # a generator closed by the caller
        (RuntimeError("boom"), "RuntimeError: boom"),
        (ConnectionResetError(), "ConnectionResetError"),
        (asyncio.CancelledError(), "cancelled"),
    ],
)
def test_a_stream_cut_by_an_exception_records_it(error: BaseException, expected: str) -> None:
    exchange = make_exchange(stream=True)
    exchange.start_response(200, SSE_HEADERS)
    exchange.feed(SSE_EVENTS[0])

    record = exchange.finish(error)

    assert record is not None
    assert record.error == expected
    assert record.usage.estimated


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 503])
@pytest.mark.parametrize("headers", [JSON_HEADERS, SSE_HEADERS], ids=["json", "sse"])
def test_an_error_answer_costs_nothing(status: int, headers: dict[str, str]) -> None:
    library, handler = FakeLibrary(), FakeHandler()
    body = b'{"error": {"message": "no"}}'

    out, record = run(make_exchange(library, handler), status, headers, split_at(body, [4]))

    assert out == body
    assert record.error == f"HTTP {status}" and not record.succeeded
    assert record.status_code == status
    assert record.cost_usd == 0 and record.usage == Usage()
    assert handler.readers == [] and library.priced == []
    assert library.records == [record]


def test_an_error_answer_keeps_the_error_that_ended_it() -> None:
    exchange = make_exchange()
    exchange.start_response(502, JSON_HEADERS)

    record = exchange.finish(TimeoutError("read timed out"))

    assert record is not None
    assert record.error == "TimeoutError: read timed out" and record.cost_usd == 0


class SomeError(Exception):
    pass


def test_a_failed_call_records_its_error() -> None:
    library = FakeLibrary()
    exchange = make_exchange(library)
    exchange.start_response(200, JSON_HEADERS)
    exchange.feed(json_body())
    exchange.end_of_body()

    record = exchange.finish(SomeError("boom"))

    assert record is not None and library.records == [record]
    assert record.error == "SomeError: boom"


def test_a_call_that_never_got_an_answer_costs_nothing() -> None:
    library = FakeLibrary()

    record = make_exchange(library).finish(ConnectionRefusedError("refused"))

    assert record is not None and library.records == [record]
    assert record.status_code is None
    assert record.error == "ConnectionRefusedError: refused"
    assert record.cost_usd == 0 and record.usage == Usage()
    assert library.priced == []


# -- our own failures ----------------------------------------------------------------------


class RaisingReader(FakeReader):
    """A reader with a bug at one place: ``fail_in`` names the method."""

    fail_in = ""

    def _maybe_fail(self, where: str) -> None:
        if where == self.fail_in:
            raise ValueError(f"bug in {where}")

    def on_body(self, body: bytes) -> None:
        self._maybe_fail("on_body")
        super().on_body(body)

    def on_event(self, event: Any) -> None:
        self._maybe_fail("on_event")
        super().on_event(event)

    def result(self) -> Any:
        self._maybe_fail("result")
        return super().result()


@pytest.mark.parametrize(
    ("fail_in", "headers", "body"),
    [
        ("on_body", JSON_HEADERS, json_body()),
        ("result", JSON_HEADERS, json_body()),
        ("on_event", SSE_HEADERS, SSE_BODY),
        ("result", SSE_HEADERS, SSE_BODY),
    ],
)
def test_a_reader_that_raises_never_breaks_the_call(
    fail_in: str,
    headers: dict[str, str],
    body: bytes,
    tb_warnings: Callable[[], list[str]],
) -> None:
    reader = type("Reader", (RaisingReader,), {"fail_in": fail_in})
    library = FakeLibrary()
    chunks = split_at(body, [7, 40])

    for _ in range(2):
        stream = "event-stream" in headers["content-type"]
        exchange = make_exchange(library, FakeHandler(reader=reader), stream=stream)
        exchange.start_response(200, headers)
        assert [exchange.feed(chunk) for chunk in chunks] == chunks
        assert exchange.end_of_body() == b""
        assert exchange.finish() is not None
        assert exchange.broken

    assert len(library.records) == 2
    assert all(record.usage.estimated for record in library.records)
    assert all(record.error is None for record in library.records)
    (warning,) = tb_warnings()  # the same failure twice: logged once
    assert "could not read fake chat response" in warning


def test_a_body_that_is_not_json_is_recorded_as_estimated(
    tb_warnings: Callable[[], list[str]],
) -> None:
    out, record = run(make_exchange(), 200, JSON_HEADERS, [b"<html>busy</html>"])

    assert out == b"<html>busy</html>"
    assert record.usage.estimated and record.usage.input_tokens == ESTIMATED_INPUT
    assert len(tb_warnings()) == 1


def test_an_event_filter_that_raises_passes_the_event_on_unchanged(
    tb_warnings: Callable[[], list[str]],
) -> None:
    def broken_filter(event: Any) -> bytes:
        if event.event == "usage":
            raise KeyError("usage")
        return hide_usage_and_shout(event)

    handler = FakeHandler(event_filter=broken_filter)
    exchange = make_exchange(handler=handler, stream=True)

    out, record = run(exchange, 200, SSE_HEADERS, [SSE_BODY])

    assert out == SSE_BODY.replace(b'"Hel"', b'"HEL"'), "the event is not lost"
    assert record.usage.estimated
    assert len(tb_warnings()) == 1


def test_a_stream_that_cannot_be_decoded_passes_the_callers_bytes_on(
    tb_warnings: Callable[[], list[str]],
) -> None:
    headers = {**SSE_HEADERS, "content-encoding": "gzip"}
    chunks = [b"this is not gzip", b"nor is this"]

    out, record = run(make_exchange(stream=True), 200, headers, chunks)

    assert out == b"".join(chunks)
    assert record.usage.estimated
    assert len(tb_warnings()) == 1


def test_a_ledger_that_raises_does_not_reach_the_caller(
    tb_warnings: Callable[[], list[str]],
) -> None:
    library = FakeLibrary(record_error=OSError("disk full"))
    exchange = make_exchange(library)

    _, record = run(exchange, 200, JSON_HEADERS, [json_body()])

    assert record.usage == REPORTED
    assert exchange.finish() is record
    assert len(tb_warnings()) == 1


def test_a_pricer_that_raises_still_gets_the_call_recorded(
    tb_warnings: Callable[[], list[str]],
) -> None:
    def broken_price(*args: Any) -> Any:
        raise ArithmeticError("bad price data")

    library = FakeLibrary()
    library.price = broken_price  # type: ignore[method-assign]
    exchange = make_exchange(library)

    _, record = run(exchange, 200, JSON_HEADERS, [json_body()])

    assert library.records == [record]
    assert record.cost_usd is None and record.usage.estimated
    assert record.status_code == 200
    assert len(tb_warnings()) == 1


# -- closed right after the content: only the usage report still to come ---------------------


class FinalReader(FakeReader):
    """Marks the answer's content over at its last text piece (like ``finish_reason``)."""

    def on_event(self, event: Any) -> None:
        super().on_event(event)
        if SSE_TEXT[-1] in event.data:
            self.observation.final = True


def test_an_exchange_awaits_its_tail_between_the_final_event_and_the_end_marker() -> None:
    exchange = make_exchange(handler=FakeHandler(reader=FinalReader), stream=True)
    exchange.start_response(200, SSE_HEADERS)
    waits = []
    for event in SSE_EVENTS:
        waits.append(exchange.awaits_tail())
        exchange.feed(event)
    waits.append(exchange.awaits_tail())

    # before the content ended: no; after it, until [DONE]: yes; complete: no.
    assert waits == [False, False, True, True, False]
    record = exchange.finish()
    assert record is not None and record.error is None and record.usage == REPORTED
    assert not exchange.awaits_tail()


@pytest.mark.parametrize("ending", ["ended", "finished", "broken", "json"])
def test_an_exchange_awaits_no_tail_once_nothing_more_can_be_read(ending: str) -> None:
    exchange = make_exchange(handler=FakeHandler(reader=FinalReader), stream=True)
    exchange.start_response(200, JSON_HEADERS if ending == "json" else SSE_HEADERS)
    exchange.feed(SSE_EVENTS[0] + SSE_EVENTS[1])
    if ending == "ended":
        exchange.end_of_body()
    elif ending == "finished":
        exchange.finish()
    elif ending == "broken":
        exchange._fail("a test")

    assert not exchange.awaits_tail()
