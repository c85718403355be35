"""What a budget has spent and holds, kept behind a small backend interface.

The decisions (what a call may use, when to refuse, when to warn) are a
:class:`~tokenbudget.Budget`'s (``_admission``, ``_reactions``); the accounting
lives in a :class:`BudgetBackend` with three atomic operations, so where it is
kept can change without touching the decisions. :class:`InMemoryBackend` (a
lock and a dict) serves one process; a shared backend (Redis, one limit for
many workers) implements the same operations atomically on its side (e.g. one
Lua script each).

Accounts are kept per *window*: a string naming a calendar period
(``"2026-11-29"``) or ``""`` for a budget without one. A new window starts from
zero; reservations and spending always go to the window the call was admitted in.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from .._core import after_fork_in_child
from .._data import CallRecord, RunningTotals, UsageSummary

__all__ = [
    "Amount",
    "BackendUnavailable",
    "BudgetBackend",
    "BudgetState",
    "InMemoryBackend",
    "Limits",
    "OnBackendError",
]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Amount:
    """Money and tokens, the two things a budget counts."""

    cost_usd: Decimal = _ZERO
    tokens: int = 0

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.cost_usd + other.cost_usd, self.tokens + other.tokens)

    def __sub__(self, other: Amount) -> Amount:
        return Amount(self.cost_usd - other.cost_usd, self.tokens - other.tokens)


@dataclass(frozen=True, slots=True)
class Limits:
    """A budget's limits; ``None`` leaves a dimension unlimited."""

    cost_usd: Decimal | None = None
    tokens: int | None = None


ZERO_AMOUNT = Amount()

#: What a shared backend's reservations do while it cannot be reached.
OnBackendError = Literal["refuse", "allow_local"]


class BackendUnavailable(Exception):
    """A shared backend cannot be reached and its policy is to refuse calls.

    Raised by :meth:`BudgetBackend.reserve`; the budget turns it into a refusal
    (``reason="unavailable"``) of the kind the call's SDK passes through.
    """


@dataclass(frozen=True, slots=True)
class BudgetState:
    """One window of a budget: the calls settled in it and what calls in flight hold."""

    usage: UsageSummary
    """Totals of the calls recorded in this window (``cost_usd`` counts priced calls)."""
    reserved: Amount = ZERO_AMOUNT
    """Held by calls admitted and not yet settled."""

    @property
    def spent(self) -> Amount:
        """Money and tokens of the settled calls."""
        return Amount(self.usage.cost_usd, self.usage.total_tokens)

    def exceeded(self, limits: Limits) -> bool:
        """True when a limit is reached: nothing more may be spent in this window.

        Reservations never count here, so a reservation that leaked can slow
        admissions down but never make a budget look exceeded.
        """
        spent = self.spent
        return (limits.cost_usd is not None and spent.cost_usd >= limits.cost_usd) or (
            limits.tokens is not None and spent.tokens >= limits.tokens
        )

    def fits(self, amount: Amount, limits: Limits) -> bool:
        """The admission rule: not exceeded, and spent + reserved + ``amount`` within the limits."""
        if self.exceeded(limits):
            return False
        committed = self.spent + self.reserved + amount
        if limits.cost_usd is not None and committed.cost_usd > limits.cost_usd:
            return False
        return limits.tokens is None or committed.tokens <= limits.tokens


class BudgetBackend(Protocol):
    """Where a budget keeps its accounts. Every method is atomic per window."""

    def reserve(
        self, window: str, amount: Amount, limits: Limits | None
    ) -> tuple[bool, BudgetState]:
        """Hold ``amount`` if ``state.fits(amount, limits)``; with ``limits=None``, hold it anyway.

        Returns whether it was held and the window's state after the attempt.
        """

    def settle(
        self, window: str, held: Amount, record: CallRecord | None
    ) -> tuple[BudgetState, BudgetState]:
        """Release ``held``, count ``record`` (``None``: release only); returns (before, after)."""

    def read(self, window: str) -> BudgetState:
        """The window's state (zero for a window never used). May run per stream chunk."""

    def clear(self) -> None:
        """Forget every window."""


class _Account:
    __slots__ = ("reserved", "totals")

    def __init__(self) -> None:
        self.totals = RunningTotals()
        self.reserved = ZERO_AMOUNT

    def state(self) -> BudgetState:
        return BudgetState(self.totals.snapshot(), self.reserved)


class InMemoryBackend:
    """A budget's accounts in this process, behind one lock.

    Keeps the newest window and any older one that still has calls in flight;
    the rest are dropped as soon as a newer window is used.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        """In a forked child: a new lock, and no holds (they are the parent's calls in flight)."""
        self._lock = threading.Lock()
        for account in self._accounts.values():
            account.reserved = ZERO_AMOUNT

    def _account(self, window: str) -> _Account:
        account = self._accounts.get(window)
        if account is None:
            account = self._accounts[window] = _Account()
            for key in [k for k, a in self._accounts.items() if k < window]:
                if self._accounts[key].reserved == ZERO_AMOUNT:
                    del self._accounts[key]
        return account

    def reserve(
        self, window: str, amount: Amount, limits: Limits | None
    ) -> tuple[bool, BudgetState]:
        with self._lock:
            account = self._account(window)
            state = account.state()
            if limits is not None and not state.fits(amount, limits):
                return False, state
            account.reserved += amount
            return True, account.state()

    def settle(
        self, window: str, held: Amount, record: CallRecord | None
    ) -> tuple[BudgetState, BudgetState]:
        with self._lock:
            account = self._account(window)
            before = account.state()
            left = account.reserved - held
            account.reserved = Amount(max(left.cost_usd, _ZERO), max(left.tokens, 0))
            if record is not None:
                account.totals.add(record)
            return before, account.state()

    def read(self, window: str) -> BudgetState:
        with self._lock:
            account = self._accounts.get(window)
            return account.state() if account is not None else BudgetState(UsageSummary())

    def clear(self) -> None:
        with self._lock:
            self._accounts.clear()
