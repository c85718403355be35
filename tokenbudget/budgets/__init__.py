"""Budgets: stop spending before it happens.

``budget(max_cost_usd=..., max_tokens=...)`` limits what the LLM calls made in
a scope may spend. Before a request leaves the transport each budget covering
it estimates it and reserves what its policy says, or refuses it (the SDK call
raises :class:`~tokenbudget.BudgetExceeded` / :class:`~tokenbudget.TokenLimitReached`
and nothing is sent); a stream can be cut off mid-way; a call that completes
and crosses the limit is kept, and the calls after it are refused.

Most users need only the top-level names (``tokenbudget.budget``,
``context_executor``, ``in_context``, ``current_budget``). This package also
exposes the accounting interface, :class:`BudgetBackend`, for keeping a
budget's accounts elsewhere (e.g. one limit shared by many processes:
``budget(key=..., backend="redis://...")``, see :mod:`tokenbudget.redis`;
:func:`register_backend_scheme` adds a URL scheme), and the gate trackers
hold their calls with (:func:`covering`, :func:`hold`, :func:`budget_error`),
for integrations that add gates of their own (the pytest plugin does), and its
dry run, :func:`would_refuse`, which trackers ask when a request is built so
that a refusal is raised before any SDK can wrap or retry it.
:func:`budget_refusal` finds a refusal inside an exception that a framework
(or an old SDK) wrapped it in. :func:`when_budgets_exist` runs a callback once the
process has its first budget (:func:`budgets_exist` tells whether it has): work only
budgets need can wait for it.
"""

from __future__ import annotations

from ._arguments import OnExceed, Preflight, parse_dollars
from ._backends import BackendFactory, register_backend_scheme
from ._budget import Budget
from ._find import budget_refusal
from ._first import budgets_exist, when_budgets_exist
from ._gate import covering, hold, tracker_budgets, would_refuse
from ._refusal import budget_error
from ._scope import active_budgets, current_budget
from ._state import (
    Amount,
    BackendUnavailable,
    BudgetBackend,
    BudgetState,
    InMemoryBackend,
    Limits,
    OnBackendError,
)
from ._threads import ContextExecutor, context_executor, in_context
from ._window import Clock, Period, Window

__all__ = [
    "Amount",
    "BackendFactory",
    "BackendUnavailable",
    "Budget",
    "BudgetBackend",
    "BudgetState",
    "Clock",
    "ContextExecutor",
    "InMemoryBackend",
    "Limits",
    "OnBackendError",
    "OnExceed",
    "Period",
    "Preflight",
    "Window",
    "active_budgets",
    "budget",
    "budget_error",
    "budget_refusal",
    "budgets_exist",
    "context_executor",
    "covering",
    "current_budget",
    "hold",
    "in_context",
    "parse_dollars",
    "register_backend_scheme",
    "tracker_budgets",
    "when_budgets_exist",
    "would_refuse",
]

#: ``budget(...)`` builds a :class:`Budget`; see its docstring for the arguments.
budget = Budget
