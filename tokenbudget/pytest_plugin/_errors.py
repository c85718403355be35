"""The refusals the plugin adds to the budget exceptions.

::

    TokenBudgetError
     ├── BudgetExceeded       (a test's max_cost_usd: tokenbudget's own)
     ├── TokenLimitReached    (a test's max_tokens: tokenbudget's own)
     ├── CallLimitReached     (a test's max_calls)
     └── UnrecordedCall       (replay: the call is not in the recording)

They are :class:`~tokenbudget.TokenBudgetError` subclasses on purpose: the
tracking transport lets only those escape into the SDK call (anything else
raised while admitting a call is logged and the call is sent), and requests of
the anthropic SDK get them in the flavour it passes through unwrapped
(``tokenbudget.budgets._refusal``).
"""

from __future__ import annotations

from .._data import TokenBudgetError

__all__ = ["CallLimitReached", "UnrecordedCall"]


class CallLimitReached(TokenBudgetError):
    """A test marked ``@pytest.mark.tokenbudget(max_calls=N)`` tried to make call N+1."""


class UnrecordedCall(TokenBudgetError):
    """In replay mode, a call the recording has no answer for: it is never sent."""


for _error in (CallLimitReached, UnrecordedCall):
    _error.__module__ = "tokenbudget.pytest_plugin"  # where users import them from
