"""Budgets hold a call through the ``admit`` port, watch its stream and settle at its end."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tokenbudget import BudgetExceeded, TokenBudgetError, TokenLimitReached

from .fakes import (
    JSON_HEADERS,
    REPORTED,
    SSE_BODY,
    SSE_EVENTS,
    SSE_HEADERS,
    FakeGuard,
    FakeLibrary,
    json_body,
    make_exchange,
    respond,
    run,
)


def test_every_guard_settles_once_with_the_record() -> None:
    guards = [FakeGuard(), FakeGuard(watches_stream=True)]
    library = FakeLibrary(guards=guards)
    exchange = make_exchange(library)

    exchange.admit()
    _, record = run(exchange, 200, JSON_HEADERS, [json_body()])
    exchange.finish()

    assert library.admitted == [exchange]
    assert list(exchange.guards) == guards
    assert [guard.settled for guard in guards] == [[record], [record]]


def test_guards_settle_a_call_that_failed() -> None:
    guard = FakeGuard()
    exchange = make_exchange(FakeLibrary(guards=[guard]))
    exchange.admit()

    record = exchange.finish(OSError("reset"))

    assert guard.settled == [record]


def test_a_watching_guard_sees_the_stream_as_it_is_fed() -> None:
    watcher, idle = FakeGuard(watches_stream=True), FakeGuard()
    exchange = make_exchange(FakeLibrary(guards=[watcher, idle]), stream=True)
    exchange.admit()

    respond(exchange, 200, SSE_HEADERS, SSE_EVENTS)

    # Checked after each chunk, with the text read so far.
    assert watcher.progress == [1, 2, 2, 2]
    assert idle.progress == []


def test_a_watching_guard_is_not_asked_about_a_json_answer() -> None:
    watcher = FakeGuard(watches_stream=True)
    exchange = make_exchange(FakeLibrary(guards=[watcher]))
    exchange.admit()

    run(exchange, 200, JSON_HEADERS, [json_body()])

    assert watcher.progress == []


@pytest.mark.parametrize("refusal", [BudgetExceeded, TokenLimitReached])
def test_a_guard_may_stop_a_stream_by_raising_from_feed(refusal: type[TokenBudgetError]) -> None:
    error = refusal("over the limit", reason="stream")
    guard = FakeGuard(watches_stream=True, error=error)
    library = FakeLibrary(guards=[guard])
    exchange = make_exchange(library, stream=True)
    exchange.admit()
    exchange.start_response(200, SSE_HEADERS)

    with pytest.raises(refusal) as raised:
        exchange.feed(SSE_EVENTS[0])
    record = exchange.finish(raised.value)  # as the tracked stream does

    assert raised.value is error
    assert record is not None and library.records == [record]
    assert record.error == f"{refusal.__name__}: over the limit"
    assert guard.settled == [record]


def test_a_guard_that_fails_otherwise_does_not_stop_the_stream(
    tb_warnings: Callable[[], list[str]],
) -> None:
    guard = FakeGuard(watches_stream=True, error=RuntimeError("redis went away"))
    library = FakeLibrary(guards=[guard])
    exchange = make_exchange(library, stream=True)
    exchange.admit()

    out, record = run(exchange, 200, SSE_HEADERS, SSE_EVENTS)

    assert out == SSE_BODY
    assert library.records == [record] and guard.settled == [record]
    assert len(tb_warnings()) == 1


@pytest.mark.parametrize("refusal", [BudgetExceeded, TokenLimitReached])
def test_a_refusal_from_admit_reaches_the_caller(refusal: type[TokenBudgetError]) -> None:
    library = FakeLibrary(admit_error=refusal("no budget left", reason="exceeded"))
    exchange = make_exchange(library)

    with pytest.raises(refusal, match="no budget left"):
        exchange.admit()

    assert library.records == [] and not exchange.finished


def test_an_admit_that_fails_otherwise_lets_the_call_go(
    tb_warnings: Callable[[], list[str]],
) -> None:
    library = FakeLibrary(admit_error=ConnectionError("redis down"))
    exchange = make_exchange(library)

    exchange.admit()  # no exception
    out, record = run(exchange, 200, JSON_HEADERS, [json_body()])

    assert list(exchange.guards) == []
    assert out == json_body()
    assert library.records == [record] and record.status_code == 200
    assert len(tb_warnings()) == 1


def test_an_admit_that_fails_does_not_stop_the_usage_being_read() -> None:
    exchange = make_exchange(FakeLibrary(admit_error=ConnectionError("redis down")))
    exchange.admit()

    _, record = run(exchange, 200, JSON_HEADERS, [json_body()])

    assert record.usage == REPORTED and not record.usage.estimated
