"""The accounting backend and the wording of refusals, without any HTTP."""

from __future__ import annotations

import threading
from decimal import Decimal

from tokenbudget import BudgetExceeded, TokenLimitReached, UsageSummary
from tokenbudget.budgets import Amount, BudgetState, InMemoryBackend, Limits
from tokenbudget.budgets._wording import dollars, verdict

from ..support import record

LIMITS = Limits(cost_usd=Decimal("1.00"), tokens=1000)


def test_reserve_refuses_what_does_not_fit_and_changes_nothing() -> None:
    backend = InMemoryBackend()
    held, state = backend.reserve("", Amount(Decimal("0.60"), 10), LIMITS)
    assert held and state.reserved == Amount(Decimal("0.60"), 10)
    held, state = backend.reserve("", Amount(Decimal("0.50"), 10), LIMITS)
    assert not held and state.reserved == Amount(Decimal("0.60"), 10)
    held, state = backend.reserve("", Amount(Decimal("0.50"), 10), None)  # unconditional
    assert held and state.reserved.cost_usd == Decimal("1.10")


def test_settle_replaces_the_reservation_by_the_cost() -> None:
    backend = InMemoryBackend()
    backend.reserve("", Amount(Decimal("0.60"), 500), LIMITS)
    before, after = backend.settle(
        "", Amount(Decimal("0.60"), 500), record(cost="0.25", output_tokens=0)
    )
    assert before.reserved.cost_usd == Decimal("0.60") and before.usage.calls == 0
    assert after.reserved == Amount() and after.spent == Amount(Decimal("0.25"), 100)
    _, released = backend.settle("", Amount(Decimal("9"), 9), None)  # never below zero
    assert released.reserved == Amount() and released.usage.calls == 1


def test_unpriced_records_count_tokens_not_cost() -> None:
    backend = InMemoryBackend()
    _, after = backend.settle("", Amount(), record(cost=None, input_tokens=70, output_tokens=0))
    assert after.spent == Amount(Decimal(0), 70) and after.usage.unpriced_calls == 1


def test_reservations_never_make_a_budget_exceeded_but_leave_no_room() -> None:
    state = BudgetState(UsageSummary(), Amount(Decimal("5"), 5000))
    assert not state.exceeded(LIMITS)
    assert not state.fits(Amount(), LIMITS)


def test_old_windows_are_dropped_unless_calls_are_in_flight() -> None:
    backend = InMemoryBackend()
    backend.reserve("2026-01-01", Amount(Decimal(1), 1), None)
    backend.settle("2026-01-02", Amount(), record(cost="0.1"))
    backend.settle("2026-01-03", Amount(), record(cost="0.1"))
    assert sorted(backend._accounts) == ["2026-01-01", "2026-01-03"]
    backend.settle("2026-01-01", Amount(Decimal(1), 1), record(cost="0.1"))
    backend.settle("2026-01-04", Amount(), record(cost="0.1"))
    assert sorted(backend._accounts) == ["2026-01-04"]
    backend.clear()
    assert backend.read("2026-01-04").usage.calls == 0


def test_reservations_are_atomic_across_threads() -> None:
    backend = InMemoryBackend()
    barrier = threading.Barrier(16)
    granted: list[bool] = []

    def reserve() -> None:
        barrier.wait()
        granted.append(backend.reserve("", Amount(Decimal("0.10"), 0), LIMITS)[0])

    threads = [threading.Thread(target=reserve) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 10


def test_verdict_names_the_failing_limit() -> None:
    state = InMemoryBackend().read("")
    cost = verdict(LIMITS, state, Amount(Decimal(2), 1), Amount(Decimal(2), 1))
    assert (cost.kind, cost.need, cost.left) == (BudgetExceeded, "$2", "$1")
    count = verdict(LIMITS, state, Amount(Decimal(0), 2000), Amount(Decimal(0), 2000))
    assert (count.kind, count.need, count.left) == (
        TokenLimitReached,
        "2,000 tokens",
        "1,000 tokens",
    )


def test_dollars_are_exact_and_short() -> None:
    assert [dollars(Decimal(v)) for v in ("0", "1.50", "0.00000123", "12")] == [
        "$0",
        "$1.5",
        "$0.00000123",
        "$12",
    ]
