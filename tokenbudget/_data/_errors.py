"""The exceptions tokenbudget raises into user code on purpose: budget refusals.

::

    TokenBudgetError
     ├── BudgetExceeded      (a cost limit)
     └── TokenLimitReached   (a token limit)

    BudgetWarning (UserWarning): a budget passed ``warn_at``, or let a call
    through that it would have refused (``on_exceed="warn"``).

Every other failure inside tokenbudget is logged and never raised into a call.
A refusal of a request made through the ``anthropic`` SDK is an instance of a
subclass that is also an ``anthropic.AnthropicError``, so that the SDK passes it
on as it is instead of wrapping and retrying it; ``except BudgetExceeded``
catches both.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["BudgetExceeded", "BudgetWarning", "TokenBudgetError", "TokenLimitReached"]


class TokenBudgetError(Exception):
    """A budget refused a call, or stopped a stream, to keep spending within its limit.

    ``limit`` and ``spent`` are in the budget's unit (dollars as ``Decimal`` for
    cost, an ``int`` for tokens); ``estimate`` is what the refused call was
    expected to use (for a stopped stream: what it had used when stopped);
    ``budget_name`` names the budget that refused. ``reason`` says why:

    - ``"preflight"``: the call cannot fit in what is left;
    - ``"exceeded"``: the budget is already spent;
    - ``"unpriced"``: a cost budget cannot price the model;
    - ``"stream"``: a stream crossed the limit and was stopped;
    - ``"unavailable"``: a shared budget's backend (Redis) cannot be reached and its
      policy is to refuse;
    - ``"crossed"``: a call that completed crossed the limit (given only to an
      ``on_exceed`` callback; never raised).
    """

    def __init__(
        self,
        message: str,
        *,
        limit: Decimal | int | None = None,
        spent: Decimal | int | None = None,
        estimate: Decimal | int | None = None,
        budget_name: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.limit = limit
        self.spent = spent
        self.estimate = estimate
        self.budget_name = budget_name
        self.reason = reason


class BudgetExceeded(TokenBudgetError):
    """A cost limit (``max_cost_usd``) would be or was crossed."""


class TokenLimitReached(TokenBudgetError):
    """A token limit (``max_tokens``) would be or was crossed."""


class BudgetWarning(UserWarning):
    """A budget passed ``warn_at``, or let an over-budget call go (``on_exceed="warn"``)."""
