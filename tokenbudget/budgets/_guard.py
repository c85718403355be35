"""One budget's hold on one call: the ``CallGuard`` (``tokenbudget._core``) of budgets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._reactions import check_stream, refuse, settled
from ._state import Amount

if TYPE_CHECKING:
    from .._core import Exchange
    from .._data import CallRecord
    from ._budget import Budget
    from ._estimate import CallEstimate

__all__ = ["BudgetGuard"]


class BudgetGuard:
    """What ``budget`` reserved for a call in ``window``, until the call settles.

    Settling is idempotent: the exchange settles once when the call is
    recorded; :meth:`release` returns the reservation of a call that another
    budget refused before it was sent.
    """

    __slots__ = ("_call", "_held", "_open", "_window", "budget", "watches_stream")

    def __init__(
        self, budget: Budget, call: CallEstimate, window: str, held: Amount, *, watches_stream: bool
    ) -> None:
        self.budget = budget
        self._call = call
        self._window = window
        self._held = held
        self._open = True
        #: True when the budget stops streams (``stop_streams=True``) and this call streams.
        self.watches_stream = watches_stream

    def __repr__(self) -> str:
        return f"<BudgetGuard {self.budget!r} holds {self._held}>"

    def on_progress(self, exchange: Exchange) -> None:
        """Stop the stream (raise) once its running use would pass the budget's limit.

        Only for a reader that keeps the output text current while watched (it
        sets ``endpoint.output_live``): a reader that defers would show
        the output only at the end, and a cut there would break a finished answer.
        """
        if not (self.watches_stream and exchange.endpoint.output_live):
            return
        error = check_stream(self.budget, self._call, self._window)
        if error is not None:
            self.watches_stream = False  # one verdict per stream, even if on_exceed lets it run
            refuse(self.budget, error)

    def settle(self, record: CallRecord) -> None:
        """Replace the reservation by what the call cost (zero for a call that failed early)."""
        self._close(record)

    def release(self) -> None:
        """Give the reservation back: the call was never sent."""
        self._close(None)

    def _close(self, record: CallRecord | None) -> None:
        if not self._open:
            return
        self._open = False
        before, after = self.budget.backend.settle(self._window, self._held, record)
        if record is not None:
            settled(self.budget, before, after, record)
