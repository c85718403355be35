"""The gate every tracked call passes before it is sent: ``TokenTracker._admit``.

A call is held by the tracker's own budgets and by the budgets active in the
context that apply to its tracker. The call's estimate is worked out once and
shared; clamping budgets go first, so that every other budget reserves on the
lowered ceiling. If one budget refuses, the others give their reservations
back and the refusal is raised: nothing is sent.

One HTTP call that passes through two tracking transports (two trackers, one
under the other) is one call to a budget: the inner transport sees the outer
exchange being sent (``tokenbudget._exchange.SENDING``) and skips the budgets
that already hold it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from .._exchange import SENDING
from ._budget import Budget
from ._estimate import CallEstimate
from ._guard import BudgetGuard
from ._scope import active_budgets

if TYPE_CHECKING:
    from .._exchange import Exchange
    from .._hooks import CallGuard

__all__ = ["admit", "tracker_budgets"]


def admit(exchange: Exchange, tracker_budgets: Iterable[Budget]) -> list[CallGuard]:
    """Hold ``exchange`` in every budget that covers it; raises the first refusal."""
    if not exchange.endpoint.billable:
        return []  # free endpoints (token counting) are never refused
    budgets = _covering(exchange, tracker_budgets)
    if not budgets:
        return []
    call = CallEstimate(exchange, price=any(b.max_cost_usd is not None for b in budgets))
    guards: list[BudgetGuard] = []
    try:
        for budget in sorted(budgets, key=lambda b: b.preflight != "clamp"):
            guards.append(budget._hold(call))
    except BaseException:
        for guard in guards:
            guard.release()
        raise
    if any(guard.watches_stream for guard in guards):
        exchange.endpoint.state["watch_output"] = True  # readers keep the output text current
    return list(guards)


def _covering(exchange: Exchange, tracker_budgets: Iterable[Budget]) -> list[Budget]:
    """The tracker's budgets, then the context's outermost first; each once, none held already."""
    outer = SENDING.get()
    seen = {id(getattr(guard, "budget", None)) for guard in outer.guards} if outer else set()
    found: list[Budget] = []
    for budget in (*tracker_budgets, *active_budgets()):
        if id(budget) in seen or budget.tracker not in (None, exchange.tracker):
            continue
        seen.add(id(budget))
        found.append(budget)
    return found


def tracker_budgets(
    name: str | None,
    max_cost_usd: Decimal | float | str | None,
    max_tokens: int | None,
    budgets: Iterable[Budget],
) -> list[Budget]:
    """A tracker's own budgets: one from its ``max_cost_usd``/``max_tokens``, then ``budgets``."""
    found = list(budgets)
    if max_cost_usd is not None or max_tokens is not None:
        found.insert(0, Budget(max_cost_usd, max_tokens, name=name or "tracker"))
    return found
