"""The gate every tracked call passes before it is sent: which budgets hold it, and holding them.

A call is held by its tracker's own budgets and by the budgets active in the
context that apply to its tracker (:func:`covering`). The call's estimate is
worked out once and shared; clamping budgets go first, so that every other
budget reserves on the lowered ceiling. If one budget refuses, the others give
their reservations back and the refusal is raised: nothing is sent
(:func:`hold`).

One HTTP call that passes through two tracking transports (two trackers, one
under the other) is one call to a budget: the inner transport sees the outer
exchange being sent (``tokenbudget._core.SENDING``) and skips the budgets that
already hold it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from .._core import SENDING, CallGuard, Exchange
from ._admission import admit
from ._budget import Budget
from ._estimate import CallEstimate
from ._guard import BudgetGuard
from ._scope import active_budgets

__all__ = ["covering", "hold", "tracker_budgets"]


def covering(
    owner: object, tracker_budgets: Iterable[Budget], *, others: bool = True
) -> list[Budget]:
    """The budgets that cover a call ``owner`` (a tracker) makes in this context.

    The tracker's own budgets, then the context's, outermost first, each once;
    a context budget counts when it was given no tracker or this one. With
    ``others=False`` only context budgets given this very tracker count: the
    general ones are left to a tracker further out that holds them.
    """
    found: list[Budget] = []
    seen: set[int] = set()
    for budget in (*tracker_budgets, *active_budgets()):
        if id(budget) in seen or budget.tracker not in (None, owner):
            continue
        seen.add(id(budget))
        found.append(budget)
    if not others:
        own = {id(budget) for budget in tracker_budgets}
        found = [b for b in found if id(b) in own or b.tracker is owner]
    return found


def hold(exchange: Exchange, budgets: Iterable[Budget]) -> list[CallGuard]:
    """Hold ``exchange`` in each of ``budgets``; raises the first refusal, releasing the rest.

    Budgets already holding the same HTTP call further out are skipped, and a
    free endpoint (token counting) is never held.
    """
    if not exchange.endpoint.billable:
        return []
    outer = SENDING.get()
    held = {id(getattr(guard, "budget", None)) for guard in outer.guards} if outer else set()
    chosen = [budget for budget in budgets if id(budget) not in held]
    if not chosen:
        return []
    call = CallEstimate(exchange, price=any(b.max_cost_usd is not None for b in chosen))
    guards: list[BudgetGuard] = []
    try:
        for budget in sorted(chosen, key=lambda b: b.preflight != "clamp"):
            guards.append(admit(budget, call))
    except BaseException:
        for guard in guards:
            guard.release()
        raise
    if any(guard.watches_stream for guard in guards):
        exchange.endpoint.watch_output = True  # readers keep the output text current
    return list(guards)


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
