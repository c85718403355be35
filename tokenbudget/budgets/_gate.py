"""The gate every tracked call passes before it is sent: which budgets hold it, and holding them.

A call is held by its tracker's own budgets and by the budgets active in the
context that apply to its tracker (:func:`covering`). The call's estimate is
worked out once and shared; clamping budgets go first, so that every other
budget reserves on the lowered ceiling. If one budget refuses, the others give
their reservations back and the refusal is raised: nothing is sent
(:func:`hold`). :func:`would_refuse` is the same decision as a dry run, taken
when a request is built (before any SDK can retry it); it reserves nothing,
and :func:`hold` still decides when the request is sent.

One HTTP call that passes through two tracking transports (two trackers, one
under the other) is one call to a budget: the inner transport sees the outer
exchange being sent (``tokenbudget._core.SENDING``) and skips the budgets that
already hold it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from .._core import SENDING, CallGuard, Exchange
from .._data import TokenBudgetError
from ._admission import admit, verdict_now
from ._budget import Budget
from ._estimate import CallEstimate
from ._guard import BudgetGuard
from ._scope import active_budgets

__all__ = ["covering", "hold", "tracker_budgets", "would_refuse"]


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
    chosen = _chosen(exchange, budgets)
    if not chosen:
        return []
    call = CallEstimate(exchange, price=any(b.max_cost_usd is not None for b in chosen))
    guards: list[BudgetGuard] = []
    try:
        for budget in chosen:
            guards.append(admit(budget, call))
    except BaseException:
        for guard in guards:
            guard.release()
        raise
    if any(guard.watches_stream for guard in guards):
        exchange.endpoint.watch_output = True  # readers keep the output text current
    return list(guards)


def would_refuse(exchange: Exchange, budgets: Iterable[Budget]) -> TokenBudgetError | None:
    """The refusal :func:`hold` would raise for ``exchange`` now, holding nothing (a dry run).

    ``None`` when every budget would let the call through (or, with
    ``on_exceed`` other than ``"raise"``, let it go). Nothing is reserved,
    warned about or called back; the budgets' windows are read once. A clamping
    budget may set a lowered output ceiling in ``exchange.body_overrides``, as
    it would before sending: give it an exchange that will not be sent. A call
    this lets through can still be refused by :func:`hold` when it is sent, if
    other calls spent or reserved the room meanwhile.

    >>> error = would_refuse(exchange, covering(tracker, tracker.budgets))  # doctest: +SKIP
    """
    chosen = _chosen(exchange, budgets)
    if not any(budget.on_exceed == "raise" for budget in chosen):
        return None
    call = CallEstimate(exchange, price=any(b.max_cost_usd is not None for b in chosen))
    for budget in chosen:
        error = verdict_now(budget, call)
        if error is not None:
            return error
    return None


def _chosen(exchange: Exchange, budgets: Iterable[Budget]) -> list[Budget]:
    """The budgets that hold ``exchange``, clamping ones first (the others reserve on the
    lowered ceiling); none for a free endpoint, or for budgets holding the same HTTP call
    further out."""
    if not exchange.endpoint.billable:
        return []
    outer = SENDING.get()
    held = {id(getattr(guard, "budget", None)) for guard in outer.guards} if outer else set()
    chosen = [budget for budget in budgets if id(budget) not in held]
    return sorted(chosen, key=lambda b: b.preflight != "clamp")


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
