"""Which budgets cover the current context: a stack in a ``ContextVar``.

Entering a budget pushes it for the current context only, so it covers the
calls made in the block, in asyncio tasks created inside it (they copy the
context), and in threads started with a copy of it (:mod:`._threads`); other
threads and tasks are not covered.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._budget import Budget

__all__ = ["active_budgets", "current_budget", "enter", "leave"]

_active: ContextVar[tuple[Budget, ...]] = ContextVar("tokenbudget_budgets", default=())


def enter(budget: Budget) -> None:
    """Make ``budget`` the innermost budget of this context."""
    _active.set((*_active.get(), budget))


def leave(budget: Budget) -> None:
    """Remove the innermost occurrence of ``budget`` from this context (no-op if absent).

    Computed from this context's own stack rather than a reset token, so one
    budget object may be entered by several tasks or threads at once.
    """
    stack = _active.get()
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] is budget:
            _active.set(stack[:index] + stack[index + 1 :])
            return


def active_budgets() -> tuple[Budget, ...]:
    """The budgets covering this context, outermost first."""
    return _active.get()


def current_budget() -> Budget | None:
    """The innermost budget covering this context, or ``None``.

    Inside a function decorated with ``@budget(...)`` this is the budget of
    the current call.
    """
    stack = _active.get()
    return stack[-1] if stack else None
