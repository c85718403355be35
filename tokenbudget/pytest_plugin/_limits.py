"""A test's marker limits: refuse calls once one is reached, and judge the test when it ends.

Budget semantics, like :func:`tokenbudget.budget`: a call is let through while
the test is within its limits; the call that crosses a limit completes (its
answer was paid for); every later call is refused before it is sent, with
:class:`~tokenbudget.BudgetExceeded` (``max_cost_usd``),
:class:`~tokenbudget.TokenLimitReached` (``max_tokens``) or
:class:`CallLimitReached` (``max_calls``: the call that would pass the count).
The test then fails, whether or not the refusal reached it.

Money and tokens are counted from the calls recorded so far; in replay mode a
replayed call counts for what it cost when it was recorded, so a replayed run
passes and fails exactly where the recorded run did. Calls are counted when
they are admitted (replayed or sent), so concurrent calls cannot pass
``max_calls`` together. Free endpoints (token counting) are never refused.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING

from .._data import BudgetExceeded, TokenBudgetError, TokenLimitReached
from ..budgets import budget_error
from ._errors import CallLimitReached
from ._wording import calls_text, top_models, usd

if TYPE_CHECKING:
    from .._core import Exchange
    from ._trackers import PytestTracker

__all__ = ["CallLimits"]


class CallLimits:
    """The marker limits of one test (``tracker.options``), applied to its calls."""

    def __init__(self, tracker: PytestTracker) -> None:
        self._tracker = tracker
        self._lock = threading.Lock()
        #: Billable calls let through (sent or replayed).
        self.admitted = 0
        #: The refusals raised into the test's calls, oldest first.
        self.refused: list[TokenBudgetError] = []

    def admit(self, exchange: Exchange) -> None:
        """Count ``exchange`` in, or raise (and remember) the refusal of the limit it would pass."""
        __tracebackhide__ = True
        error = self.take(exchange)
        if error is not None:
            self.refused.append(error)
            raise error

    def take(self, exchange: Exchange) -> TokenBudgetError | None:
        """Count ``exchange`` in and return ``None``, or return its refusal (not remembered)."""
        if not exchange.endpoint.billable:
            return None
        with self._lock:
            error = self._refusal(exchange)
            if error is None:
                self.admitted += 1
            return error

    def refuse_early(self, exchange: Exchange) -> None:
        """Raise (and remember) now the refusal :meth:`admit` would raise; count nothing.

        The dry run a tracked client makes when it builds a request, before an
        SDK could wrap and retry a refusal raised while sending.
        """
        __tracebackhide__ = True
        if not exchange.endpoint.billable:
            return
        with self._lock:
            error = self._refusal(exchange)
        if error is not None:
            self.refused.append(error)
            raise error

    @property
    def active(self) -> bool:
        """True when the test sets a limit, so a call may be refused."""
        options = self._tracker.options
        return any(
            limit is not None
            for limit in (options.max_calls, options.max_cost_usd, options.max_tokens)
        )

    def release(self, exchange: Exchange) -> None:
        """Give back an admission: another gate refused the call after this one let it through."""
        if exchange.endpoint.billable:
            with self._lock:
                self.admitted = max(self.admitted - 1, 0)

    def _refusal(self, exchange: Exchange) -> TokenBudgetError | None:
        tracker = self._tracker
        options = tracker.options
        model = exchange.endpoint.request_model or "?"
        test = tracker.nodeid
        if options.max_calls is not None and self.admitted >= options.max_calls:
            return budget_error(
                exchange,
                CallLimitReached,
                f"tokenbudget: test {test} reached its max_calls={options.max_calls}; "
                f"the call to {model} was not sent",
                limit=options.max_calls,
                spent=self.admitted,
                budget_name=test,
                reason="exceeded",
            )
        cost = tracker.cost
        if options.max_cost_usd is not None and cost >= options.max_cost_usd:
            return budget_error(
                exchange,
                BudgetExceeded,
                f"tokenbudget: test {test} reached its max_cost_usd={usd(options.max_cost_usd)} "
                f"(spent {usd(cost)}{tracker.replay_note}); the call to {model} was not sent",
                limit=options.max_cost_usd,
                spent=cost,
                budget_name=test,
                reason="exceeded",
            )
        used = tracker.usage.total_tokens
        if options.max_tokens is not None and used >= options.max_tokens:
            return budget_error(
                exchange,
                TokenLimitReached,
                f"tokenbudget: test {test} reached its max_tokens={options.max_tokens:,} "
                f"({used:,} used); the call to {model} was not sent",
                limit=options.max_tokens,
                spent=used,
                budget_name=test,
                reason="exceeded",
            )
        return None

    def verdict(self) -> str | None:
        """Why the test fails its limits (``None`` when it kept within them)."""
        tracker = self._tracker
        options = tracker.options
        cost, used = tracker.cost, tracker.usage.total_tokens
        kinds = {type(error) for error in self.refused}
        found = []
        if options.max_cost_usd is not None and cost > options.max_cost_usd:
            found.append(f"test spent {usd(cost)} > max_cost_usd={usd(options.max_cost_usd)}")
        elif any(issubclass(kind, BudgetExceeded) for kind in kinds):
            limit = options.max_cost_usd or Decimal(0)
            found.append(f"test spent all of max_cost_usd={usd(limit)}")
        if options.max_tokens is not None and used > options.max_tokens:
            found.append(f"test used {used:,} tokens > max_tokens={options.max_tokens:,}")
        elif any(issubclass(kind, TokenLimitReached) for kind in kinds):
            found.append(f"test used all of max_tokens={options.max_tokens or 0:,}")
        if any(issubclass(kind, CallLimitReached) for kind in kinds):
            found.append(f"test tried to make more than max_calls={options.max_calls} LLM calls")
        if not found:
            return None
        counts = calls_text(tracker.usage.calls)
        if self.refused:
            counts += f", {len(self.refused)} refused"
        top = top_models(tracker.cost_by_model())
        detail = f"{counts}; top: {top}" if top else counts
        return (
            f"tokenbudget: {'; '.join(found)} ({detail}){tracker.replay_note}\n"
            "Raise the limit in @pytest.mark.tokenbudget(...) or make the test's LLM calls "
            "cheaper (smaller model, shorter prompts, fewer calls)."
        )
