"""What budget errors and warnings say: which limit, how much, what to do, and what
happened to the call under the budget's ``on_exceed`` (refused, or sent anyway)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from .._data import BudgetExceeded, TokenBudgetError, TokenLimitReached
from ._refusal import budget_error
from ._state import Amount, BudgetState, Limits
from ._window import Window

if TYPE_CHECKING:
    from ._budget import Budget
    from ._estimate import CallEstimate

__all__ = [
    "Verdict",
    "dollars",
    "label",
    "refusal",
    "tokens",
    "unavailable",
    "unpriced",
    "usage_text",
    "verdict",
]

_PLACES = Decimal("1e-8")


def dollars(value: Decimal) -> str:
    """``$0.0123``: exact to a hundredth of a micro-dollar, no float noise."""
    return "$" + format(value.quantize(_PLACES).normalize(), "f")


def tokens(value: int) -> str:
    """``12,345 tokens``."""
    return f"{value:,} tokens"


def usage_text(limits: Limits, state: BudgetState, window: Window) -> str:
    """``$0.42 spent of $1, 1,200 of 5,000 tokens used this day (resets at ...)``."""
    spent, parts = state.spent, []
    if limits.cost_usd is not None:
        parts.append(f"{dollars(spent.cost_usd)} spent of {dollars(limits.cost_usd)}")
    if limits.tokens is not None:
        parts.append(f"{spent.tokens:,} of {limits.tokens:,} tokens used")
    text = ", ".join(parts) or "no limit"
    resets = window.resets_at()
    if resets is not None:
        text += f" this {window.per} (resets at {resets:%Y-%m-%d %H:%M} UTC)"
    return text


@dataclass(frozen=True)
class Verdict:
    """The failing dimension of a refusal, in its own unit."""

    kind: type[TokenBudgetError]
    limit: Decimal | int | None
    spent: Decimal | int
    estimate: Decimal | int
    left: str
    """What is left, formatted (``$0.01`` or ``120 tokens``)."""
    held: str
    """What calls in flight hold, formatted."""
    need: str
    """The call's amount, formatted."""


def verdict(limits: Limits, state: BudgetState, amount: Amount, total: Amount) -> Verdict:
    """Which limit a call fails, cost first: ``total`` is what was checked against the limits."""
    cost, count = limits.cost_usd, limits.tokens
    spent, held = state.spent, state.reserved
    cost_fails = cost is not None and (total.cost_usd > cost or spent.cost_usd >= cost)
    count_fails = count is not None and (total.tokens > count or spent.tokens >= count)
    if cost is not None and (cost_fails or not count_fails):
        return Verdict(
            BudgetExceeded,
            cost,
            spent.cost_usd,
            amount.cost_usd,
            dollars(max(cost - spent.cost_usd - held.cost_usd, Decimal(0))),
            dollars(held.cost_usd),
            dollars(amount.cost_usd),
        )
    return Verdict(
        TokenLimitReached,
        count,
        spent.tokens,
        amount.tokens,
        tokens(max((count or 0) - spent.tokens - held.tokens, 0)),
        tokens(held.tokens),
        tokens(amount.tokens),
    )


def label(budget: Budget) -> str:
    """``budget 'nightly'``, or ``budget`` for an unnamed one."""
    return f"budget {budget.name!r}" if budget.name else "budget"


def unpriced(budget: Budget, call: CallEstimate) -> TokenBudgetError:
    """Why a cost budget refuses a model it cannot price, and the two ways out."""
    model, provider = call.model, call.provider
    return budget_error(
        call.exchange,
        BudgetExceeded,
        f"{label(budget)} has a cost limit, but no price is known for {provider} model "
        f"{model!r}, so the call could spend without bound. Add its price with "
        f"tokenbudget.register_model({model!r}, input_per_1k=..., output_per_1k=..., "
        f"provider={provider!r}), or pass allow_unpriced=True to the budget to count its "
        "tokens without a cost.",
        limit=budget.limits.cost_usd,
        spent=budget.state.spent.cost_usd,
        budget_name=budget.name,
        reason="unpriced",
    )


def unavailable(budget: Budget, call: CallEstimate, error: Exception) -> TokenBudgetError:
    """Why a shared budget refuses a call while its backend cannot be reached."""
    cost, count = budget.limits.cost_usd, budget.limits.tokens
    return budget_error(
        call.exchange,
        BudgetExceeded if cost is not None or count is None else TokenLimitReached,
        f"{label(budget)} refused a call to {call.model}: {error}. The call was not sent"
        " (on_backend_error='refuse'; 'allow_local' admits calls against this process's"
        " own view of the budget while the backend is away).",
        limit=cost if cost is not None else count,
        budget_name=budget.name,
        reason="unavailable",
    )


def refusal(
    budget: Budget,
    call: CallEstimate | None,
    state: BudgetState,
    reason: str,
    amount: Amount,
    *,
    output_tokens: int = 0,
    model: str | None = None,
) -> TokenBudgetError:
    """A refusal (or crossing) naming the failing limit, the amounts, and what is left.

    ``reason`` is the error's (see :class:`~tokenbudget.TokenBudgetError`);
    ``amount`` is what the call needs (for a stream: what it used so far).
    """
    total = {
        "preflight": state.spent + state.reserved + amount,
        "clamp": state.spent + state.reserved + amount,
        "stream": state.spent + amount,
    }.get(reason, state.spent)
    found = verdict(budget.limits, state, amount, total)
    model = model or (call.model if call is not None else None)
    used = usage_text(budget.limits, state, budget._window)
    name = label(budget)
    mode = _mode(budget)
    if reason == "exceeded":
        text = f"{name} is spent ({used}); the call to {model} {_CALL[mode]}"
    elif reason == "preflight":
        text = (
            f"{name} cannot fit a call to {model}: it may use {found.need}{_shape(call, amount)},"
            f" but {found.left} is left ({used}; {found.held} held by calls in flight)"
            f"{_THE_CALL[mode]}"
        )
    elif reason == "clamp":
        text = (
            f"{name} cannot fit a call to {model} even with its output lowered to "
            f"min_output_tokens={budget.min_output_tokens}: {found.left} is left ({used})"
            f"{_THE_CALL[mode]}"
        )
    elif reason == "stream":
        text = (
            f"{name} {_STOPS[mode]} a stream of {model} after ~{output_tokens:,} output tokens: "
            f"with this call's {found.need} so far it passes its limit ({used}){_STREAM[mode]}"
        )
    else:
        text = f"{name} was crossed by a call to {model} ({used}); {_LATER[mode]}"
    return budget_error(
        call.exchange if call is not None else None,
        found.kind,
        text,
        limit=found.limit,
        spent=found.spent,
        estimate=found.estimate,
        budget_name=budget.name,
        reason=reason,
    )


Mode = Literal["raise", "warn", "callable"]

# What happens to the call under each on_exceed, so a text never says a call was not
# sent when "warn" sent it: "raise" refuses; "warn" lets everything go; a callable lets
# the call go unless it raises.
_CALL: dict[Mode, str] = {
    "raise": "was not sent",
    "warn": "is sent anyway (on_exceed='warn')",
    "callable": "is sent unless on_exceed raises",
}
_THE_CALL: dict[Mode, str] = {
    "raise": "",
    "warn": "; the call is sent anyway (on_exceed='warn')",
    "callable": "; the call is sent unless on_exceed raises",
}
_STOPS: dict[Mode, str] = {"raise": "stopped", "warn": "would stop", "callable": "would stop"}
_STREAM: dict[Mode, str] = {
    "raise": "",
    "warn": "; the stream goes on (on_exceed='warn')",
    "callable": "; the stream goes on unless on_exceed raises",
}
_LATER: dict[Mode, str] = {
    "raise": "no more calls are sent",
    "warn": "later calls are still sent (on_exceed='warn')",
    "callable": "later calls are sent unless on_exceed raises",
}


def _mode(budget: Budget) -> Mode:
    on_exceed = budget.on_exceed
    if on_exceed == "raise" or on_exceed == "warn":
        return on_exceed
    return "callable"


def _shape(call: CallEstimate | None, amount: Amount) -> str:
    """What the amount is made of: the input alone, or input plus an output ceiling."""
    if call is None:
        return ""
    output = amount.tokens - call.input_tokens
    if output <= 0:
        return f" for its {call.input_tokens:,} input tokens alone"
    return f" ({call.input_tokens:,} input tokens + up to {output:,} output tokens)"
