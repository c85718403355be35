"""The exceptions tokenbudget raises into user code on purpose: budget refusals.

::

    TokenBudgetError
     ├── BudgetExceeded      (a cost limit)
     └── TokenLimitReached   (a token limit)

Every other failure inside tokenbudget is logged and never raised into a call.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["BudgetExceeded", "TokenBudgetError", "TokenLimitReached"]


class TokenBudgetError(Exception):
    """A budget refused a call, or stopped a stream, to keep spending within its limit.

    ``limit`` and ``spent`` are in the budget's unit (dollars as ``Decimal`` for
    cost, an ``int`` for tokens); ``estimate`` is what the refused call was
    expected to use; ``budget_name`` names the budget that refused.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: Decimal | int | None = None,
        spent: Decimal | int | None = None,
        estimate: Decimal | int | None = None,
        budget_name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.limit = limit
        self.spent = spent
        self.estimate = estimate
        self.budget_name = budget_name


class BudgetExceeded(TokenBudgetError):
    """A cost limit (``max_cost_usd``) would be or was crossed."""


class TokenLimitReached(TokenBudgetError):
    """A token limit (``max_tokens``) would be or was crossed."""
