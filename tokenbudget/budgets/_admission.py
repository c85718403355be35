"""Pre-flight: what a budget reserves for a call before it is sent, or why it refuses it.

The gate (:mod:`._gate`) asks each budget covering a call to :func:`admit` it.
The budget reads its window, works out what its ``preflight`` policy holds for
the call, and asks its backend to reserve that atomically; when a concurrent
call got there first, it plans again on the state the backend returned (a few
times) before refusing. What a refusal does is ``on_exceed``'s
(:func:`._reactions.refuse`): raise, so nothing is sent, or let the call go,
which is then accounted for all the same.

The policies:

- ``"minimum"`` holds the input's estimate: a call whose input alone cannot fit
  is refused, and every call once the budget is spent;
- ``"worst_case"`` holds input plus the request's output ceiling (or
  ``default_max_output``), so concurrent calls can never overshoot together; a
  call that nothing bounds holds all that is left;
- ``"clamp"`` is ``worst_case`` that lowers the request's output ceiling to
  what fits, down to ``min_output_tokens``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .._data import TokenBudgetError
from ._guard import BudgetGuard
from ._reactions import refuse
from ._state import Amount, BackendUnavailable, BudgetState
from ._wording import refusal, unavailable, unpriced

if TYPE_CHECKING:
    from ._budget import Budget
    from ._estimate import CallEstimate

__all__ = ["admit", "left", "verdict_now"]

_ATTEMPTS = 5  # reservations lost to concurrent ones before refusing
_ZERO = Decimal(0)


def admit(budget: Budget, call: CallEstimate) -> BudgetGuard:
    """Reserve what ``call`` may use in ``budget``, or refuse it (also when its backend is away)."""
    try:
        return _reserve(budget, call)
    except BackendUnavailable as exc:
        raise unavailable(budget, call, exc) from exc


def verdict_now(budget: Budget, call: CallEstimate) -> TokenBudgetError | None:
    """The refusal :func:`admit` would raise for ``call`` now, reserving nothing.

    Reads the budget's window once and plans as :func:`admit` does; ``None``
    when the call would be let through, also when ``on_exceed`` would let a
    refused call go (only ``"raise"`` refuses). A clamping budget may lower the
    call's output ceiling, as it would when admitting it.
    """
    if budget.on_exceed != "raise":
        return None
    if budget.limits.cost_usd is not None and not call.priced and not budget.allow_unpriced:
        return unpriced(budget, call)
    try:
        state = budget.backend.read(budget._window.key())
    except BackendUnavailable as exc:
        return unavailable(budget, call, exc)
    return _plan(budget, call, state)[1]


def left(budget: Budget, state: BudgetState) -> Amount:
    """What is neither spent nor reserved, per limited dimension (zero where unlimited)."""
    committed = state.spent + state.reserved
    cost, count = budget.limits.cost_usd, budget.limits.tokens
    return Amount(
        _ZERO if cost is None else cost - committed.cost_usd,
        0 if count is None else count - committed.tokens,
    )


def _reserve(budget: Budget, call: CallEstimate) -> BudgetGuard:
    """Reserve what ``call`` may use, or refuse it (as ``on_exceed`` says)."""
    window = budget._window.key()
    if budget.limits.cost_usd is not None and not call.priced and not budget.allow_unpriced:
        refuse(budget, unpriced(budget, call))
    state = budget.backend.read(window)
    amount, error = _plan(budget, call, state)
    for _ in range(_ATTEMPTS):
        if error is not None:
            break
        held, state = budget.backend.reserve(window, amount, budget.limits)
        if held:
            return _guard(budget, call, window, amount)
        amount, error = _plan(budget, call, state)  # a concurrent call got there first
    refuse(budget, error or refusal(budget, call, state, "preflight", amount))
    budget.backend.reserve(window, amount, None)  # on_exceed let the call go: account for it
    return _guard(budget, call, window, amount)


def _guard(budget: Budget, call: CallEstimate, window: str, amount: Amount) -> BudgetGuard:
    watch = budget.stop_streams and call.exchange.endpoint.stream
    return BudgetGuard(budget, call, window, amount, watches_stream=watch)


def _plan(
    budget: Budget, call: CallEstimate, state: BudgetState
) -> tuple[Amount, TokenBudgetError | None]:
    """What to reserve for ``call`` under the budget's policy, and why not if it cannot fit."""
    limits = budget.limits
    base = call.amount(0)
    if state.exceeded(limits):
        return base, refusal(budget, call, state, "exceeded", base)
    if not state.fits(base, limits):
        return base, refusal(budget, call, state, "preflight", base)
    if budget.preflight == "minimum":
        return base, None
    ceiling = call.ceiling if call.ceiling is not None else budget.default_max_output
    if ceiling is None:  # nothing bounds the output: the call holds all that is left
        rest = left(budget, state)
        return Amount(max(base.cost_usd, rest.cost_usd), max(base.tokens, rest.tokens)), None
    worst = call.amount(ceiling)
    if state.fits(worst, limits):
        if budget.preflight == "clamp" and call.ceiling is None:
            call.lower_ceiling(ceiling)  # write default_max_output: the bound must hold
        return worst, None
    if budget.preflight == "clamp":
        room = _room(budget, call, state)
        if room is not None and room >= budget.min_output_tokens:
            call.lower_ceiling(min(room, ceiling))
            if call.ceiling is not None and call.ceiling <= room:
                return call.amount(call.ceiling), None
        return worst, refusal(budget, call, state, "clamp", worst)
    return worst, refusal(budget, call, state, "preflight", worst)


def _room(budget: Budget, call: CallEstimate, state: BudgetState) -> int | None:
    """Output tokens that fit after the call's input, or ``None`` if output is unbounded."""
    rest = left(budget, state)
    rooms: list[int] = []
    if budget.limits.cost_usd is not None and call.priced:
        affordable = call.affordable_output(rest.cost_usd)
        if affordable is not None:
            rooms.append(affordable)
    if budget.limits.tokens is not None:
        rooms.append(rest.tokens - call.input_tokens)
    return min(rooms) if rooms else None
