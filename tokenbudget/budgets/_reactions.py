"""What a budget does once it has a verdict: refuse or let go, cut a stream, warn, tell.

- :func:`refuse` carries out ``on_exceed`` for a call that does not fit, before
  it is sent or while it streams: ``"raise"`` raises the error; ``"warn"``
  issues a :class:`~tokenbudget.BudgetWarning` and a callable gets the error,
  and the call goes on unless the callable raises.
- :func:`check_stream` is asked by the guard of a streamed call under
  ``stop_streams=True`` as its output grows: spent plus the call's running use
  must stay within the limits.
- :func:`settled` runs when a call has settled: a window that passed
  ``warn_at`` or the limit fires its callbacks, each threshold once. The call
  was answered by then and cannot be refused, so a callback that fails is
  logged, not raised.
"""

from __future__ import annotations

import logging
import warnings
from decimal import Decimal
from typing import TYPE_CHECKING

from .._data import BudgetWarning, TokenBudgetError
from ._wording import label, refusal, usage_text

if TYPE_CHECKING:
    from .._data import CallRecord
    from ._budget import Budget
    from ._estimate import CallEstimate
    from ._state import BudgetState

__all__ = ["check_stream", "refuse", "settled"]

logger = logging.getLogger("tokenbudget")

_ONE = Decimal(1)


def refuse(budget: Budget, error: TokenBudgetError) -> None:
    """Raise ``error``, or let the call go as ``on_exceed`` says."""
    if budget.on_exceed == "raise":
        raise error
    if budget.on_exceed == "warn":
        warnings.warn(BudgetWarning(str(error)), stacklevel=2)
    else:
        budget.on_exceed(error)


def check_stream(budget: Budget, call: CallEstimate, window: str) -> TokenBudgetError | None:
    """The error to stop a stream with, once spent + its running use passes a limit."""
    input_tokens, output_tokens = call.running()
    running = call.amount(output_tokens, input_tokens)
    state = budget.backend.read(window)
    total = state.spent + running
    cost, count = budget.limits.cost_usd, budget.limits.tokens
    if (cost is not None and call.priced and total.cost_usd > cost) or (
        count is not None and total.tokens > count
    ):
        return refusal(budget, call, state, "stream", running, output_tokens=output_tokens)
    return None


def settled(budget: Budget, before: BudgetState, after: BudgetState, record: CallRecord) -> None:
    """Fire ``warn_at`` and the crossing callbacks: a window passes each threshold once."""
    if budget.warn_at is not None and _passed(budget, before, after, budget.warn_at):
        _warn(budget, after)
    if budget.on_exceed != "raise" and _passed(budget, before, after, _ONE):
        _notify(budget, refusal(budget, None, after, "crossed", after.spent, model=record.model))


def _passed(budget: Budget, before: BudgetState, after: BudgetState, share: Decimal) -> bool:
    cost, count = budget.limits.cost_usd, budget.limits.tokens
    was, now = before.spent, after.spent
    return (cost is not None and was.cost_usd < cost * share <= now.cost_usd) or (
        count is not None and was.tokens < count * share <= now.tokens
    )


def _warn(budget: Budget, state: BudgetState) -> None:
    if budget.on_warn is not None:
        try:
            budget.on_warn(budget)
        except Exception:
            logger.exception("tokenbudget: on_warn callback of %s failed", label(budget))
        return
    share = f"{float(budget.warn_at or _ONE):.0%}"
    used = usage_text(budget.limits, state, budget._window)
    warnings.warn(BudgetWarning(f"{label(budget)} has used {share}: {used}"), stacklevel=2)


def _notify(budget: Budget, error: TokenBudgetError) -> None:
    """Tell ``on_exceed`` of a crossing; the call was answered and cannot be refused."""
    if budget.on_exceed == "warn":
        warnings.warn(BudgetWarning(str(error)), stacklevel=2)
    elif callable(budget.on_exceed):
        try:
            budget.on_exceed(error)
        except Exception:
            logger.debug("tokenbudget: on_exceed raised at a crossing; ignored", exc_info=True)
