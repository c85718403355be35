"""The plugin's trackers: one under every client for the whole session, one per test.

How a call finds its test. From the moment the plugin starts (before the
first conftest is imported) to the end of the session, the
:class:`SessionTracker` is put under every httpx/httpx2 client built in the
process (``_patch``): clients built at import time (module-level SDK clients),
clients that other trackers build or track, clients built in tests. The
session tracker does not keep the calls it sees: it hands each one to the test
running at that moment (``Run.current``, a plain attribute, so calls from any
thread count) by letting that test's :class:`PytestTracker` begin the
exchange. The exchange then belongs to the test's tracker: its ledger records
the call, its marker limits and budgets admit or refuse it, and its response
cache (the recording, if any) answers it. Calls made outside any test (at
import, in session fixtures' teardown) stay with the session tracker. Clients
built from the fixture itself (``tokenbudget.httpx_client()``) go straight to
the test's tracker.

One HTTP call seen by two of these trackers (a client built by one, wrapped
again by the other, maybe with another tracker between them) is tracked once:
the outermost one sends it and the inner ones pass it through.

Under a tracker of the code under test (``_patch`` puts the session tracker
beneath those), the plugin's trackers only watch: they leave the request as
that tracker sends it (no stream usage injected that it did not ask for) and
leave the budgets of the context to it (it, or one further out, holds them),
holding only the test's own limits and budgets. The code under test then
behaves as it does without the plugin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from contextvars import ContextVar
from decimal import Decimal
from typing import TYPE_CHECKING

from .._core import SENDING, CallGuard, Exchange, RequestView, StoredResponse
from .._data import TokenBudgetError, UsageSummary
from .._tracker import TokenTracker
from ..budgets import budget_error, covering, hold
from . import _assertions
from ._errors import UnrecordedCall
from ._limits import CallLimits
from ._options import TokenbudgetOptions
from ._wording import ModelCost, by_model

if TYPE_CHECKING:
    from ._recording import Recording
    from ._run import Run

__all__ = ["PytestTracker", "SessionTracker"]

_ZERO = Decimal(0)

#: The call one of the plugin's trackers let through last in this context (thread, task).
_ADMITTED: ContextVar[Exchange | None] = ContextVar("tokenbudget_pytest_admitted", default=None)


def _nested() -> bool:
    """True when one of the plugin's trackers is sending this very HTTP call further out.

    A tracking transport sends its request right after admitting it, and every
    transport under it begins the same request before the response head comes
    back; once the head is back (or the call ended) the admitted call is stale.
    """
    admitted = _ADMITTED.get()
    return admitted is not None and admitted.status_code is None and not admitted.finished


def _hold_budgets(tracker: TokenTracker, exchange: Exchange) -> Sequence[CallGuard]:
    """The tracker's budgets for ``exchange``; under another tracker, its own budgets only.

    A tracker further out already holds every budget of the context that covers
    all trackers; holding them again would charge one HTTP call twice.
    """
    if SENDING.get() is None:
        return TokenTracker.admit(tracker, exchange)
    return hold(exchange, covering(tracker, tracker.budgets, others=False))


class _Watching:
    """``inject_stream_usage`` of the plugin's trackers: as a ``TokenTracker``'s, never nested.

    Streamed OpenAI chat reports usage only when asked (``stream_options``), so the
    plugin asks, as a ``TokenTracker`` does, and hides the extra from the code
    under test: the app reads exactly the stream it asked for, and the test's
    cost assertions see the provider's own figures, not a count of the visible
    text (which misses every reasoning token: an o4-mini call cost 30 times its
    estimate). A suite whose mocks check request bodies exactly sets
    ``inject_stream_usage = False`` on the fixture (or on the session tracker).
    Beneath an app's own tracker the plugin only watches: that tracker
    decides what the request carries.
    """

    _inject = True

    @property
    def inject_stream_usage(self) -> bool:
        """Ask for stream usage, unless another tracker sends the call (it decides)."""
        return self._inject and SENDING.get() is None

    @inject_stream_usage.setter
    def inject_stream_usage(self, value: bool) -> None:
        self._inject = value


def _refuse_unrecorded(run: Run, exchange: Exchange, seen: list[TokenBudgetError]) -> None:
    """Replay mode: a call the recording did not answer must not be sent."""
    __tracebackhide__ = True
    recording = run.recording
    if recording is None or recording.mode != "replay" or not recording.accepts(exchange):
        return
    error = budget_error(
        exchange, UnrecordedCall, recording.miss_message(exchange), reason="unrecorded"
    )
    seen.append(error)
    raise error


class _TestAnswers:
    """A test's view of the recording: a replayed answer counts against the test's limits."""

    def __init__(self, recording: Recording, limits: CallLimits) -> None:
        self._recording = recording
        self._limits = limits

    def lookup(self, exchange: Exchange) -> StoredResponse | None:
        answer = self._recording.lookup(exchange)
        if answer is not None and self._limits.take(exchange) is not None:
            return None  # over a limit: the gate (PytestTracker._admit) refuses the call
        return answer

    def store(self, exchange: Exchange, response: StoredResponse) -> None:
        self._recording.store(exchange, response)


class PytestTracker(_Watching, TokenTracker):
    """The ``tokenbudget`` fixture: a fresh :class:`~tokenbudget.TokenTracker` per test.

    It records every LLM call made while its test runs (setup, call and
    teardown), by any client the plugin tracks. Besides the tracker's own
    results (``usage``, ``total_cost``, ``records``...) it has:

    - in replay mode, ``usage``, ``usage_by_*``, ``total_cost`` and :attr:`cost`
      count each replayed call at its recorded cost, as the recorded run did, so a
      test asserting them passes live and replayed alike; :attr:`paid_usage` is what
      was really paid (replayed calls are free cache hits there);
    - :attr:`options`: the test's ``@pytest.mark.tokenbudget(...)`` limits;
    - the assertion helpers :meth:`assert_cost_below`, :meth:`assert_tokens_below`,
      :meth:`assert_calls` and :meth:`assert_no_calls_to`.
    """

    __test__ = False  # not a test class, whatever module imports it

    def __init__(self, run: Run, nodeid: str) -> None:
        self._run = run
        #: The pytest node id of the test.
        self.nodeid = nodeid
        #: The limits of the test's marker (set before its fixtures run).
        self.options = TokenbudgetOptions()
        self.limits = CallLimits(self)
        #: Replay mode: the calls refused because the recording had no answer.
        self.unrecorded: list[TokenBudgetError] = []
        answers = _TestAnswers(run.recording, self.limits) if run.recording is not None else None
        # The session's price book: loaded once per run, not once per test.
        super().__init__(
            name=nodeid,
            cache=answers,
            prices=run.session_tracker.prices,
            hosts=dict(run.options.hosts),
        )

    def __repr__(self) -> str:
        usage = self.usage
        return (
            f"<PytestTracker {self.nodeid!r}: {usage.calls} calls, {usage.total_tokens} tokens, "
            f"${self.cost.normalize():f}{self.replay_note}>"
        )

    # -- what the test's calls cost ---------------------------------------------------

    @property
    def replaying(self) -> bool:
        """True in a ``--tokenbudget-replay`` run."""
        return self._run.mode == "replay"

    @property
    def replay_note(self) -> str:
        """`` (recorded costs)`` in replay mode, for messages."""
        return " (recorded costs, replayed)" if self.replaying else ""

    @property
    def cost(self) -> Decimal:
        """What the test's calls cost, in dollars; replayed calls at their recorded cost."""
        return self.usage.cost_usd

    @property
    def usage(self) -> UsageSummary:
        """Totals of the test's calls; replayed calls as the recorded run counted them."""
        return self._as_recorded(super().usage)

    @property
    def usage_by_provider(self) -> dict[str, UsageSummary]:
        """Totals per provider; replayed calls at their recorded cost."""
        return {key: self._as_recorded(value) for key, value in super().usage_by_provider.items()}

    @property
    def usage_by_model(self) -> dict[str, UsageSummary]:
        """Totals per billed model; replayed calls at their recorded cost."""
        return {key: self._as_recorded(value) for key, value in super().usage_by_model.items()}

    def usage_by_tag(self, name: str | None = None) -> dict[str, UsageSummary]:
        """Totals per tag value; replayed calls at their recorded cost."""
        return {key: self._as_recorded(value) for key, value in super().usage_by_tag(name).items()}

    @property
    def total_cost(self) -> Decimal:
        """What the test's calls cost, in dollars; replayed calls at their recorded cost."""
        return self.usage.cost_usd

    @property
    def paid_usage(self) -> UsageSummary:
        """The tracker's own totals: in replay mode every replayed call is a free cache hit
        (``cost_usd`` 0, ``saved_cost_usd`` its recorded cost); live, the same as ``usage``."""
        return super().usage

    def _as_recorded(self, summary: UsageSummary) -> UsageSummary:
        # Replayed calls are the only cache hits a test's tracker has (its cache is the
        # recording; an app's own cache answers before the plugin sees a call).
        if not self.replaying or not summary.cached_calls:
            return summary
        return dataclasses.replace(
            summary,
            cost_usd=summary.cost_usd + summary.saved_cost_usd,
            saved_cost_usd=_ZERO,
            cached_calls=0,
        )

    def cost_by_model(self) -> dict[str, ModelCost]:
        """Calls, tokens and :attr:`cost` per billed model, costliest first."""
        return by_model(self.records, self.replaying)

    # -- assertions --------------------------------------------------------------------

    def assert_cost_below(self, usd: Decimal | float | str) -> None:
        """Fail unless the test's calls cost less than ``usd`` dollars."""
        __tracebackhide__ = True
        _assertions.assert_cost_below(self, usd)

    def assert_tokens_below(self, tokens: int) -> None:
        """Fail unless the test's calls used fewer than ``tokens`` tokens (input + output)."""
        __tracebackhide__ = True
        _assertions.assert_tokens_below(self, tokens)

    def assert_calls(
        self, expected: int, *, provider: str | None = None, model: str | None = None
    ) -> None:
        """Fail unless the test made exactly ``expected`` calls (to ``provider``/of ``model``)."""
        __tracebackhide__ = True
        _assertions.assert_calls(self, expected, provider=provider, model=model)

    def assert_no_calls_to(self, provider: str) -> None:
        """Fail if the test made any call to ``provider``."""
        __tracebackhide__ = True
        _assertions.assert_no_calls_to(self, provider)

    # -- the verdict -------------------------------------------------------------------

    def problem(self) -> str | None:
        """Why the test fails on its LLM calls: a limit passed, or calls not recorded."""
        found = [text for text in (self.limits.verdict(), self._unrecorded_text()) if text]
        return "\n".join(found) or None

    def caused(self, error: BaseException) -> bool:
        """True when ``error`` is (or was raised from) one of this test's refusals."""
        ours = {id(refusal) for refusal in (*self.limits.refused, *self.unrecorded)}
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            if id(current) in ours:
                return True
            seen.add(id(current))
            current = current.__cause__ or current.__context__
        return False

    def _unrecorded_text(self) -> str | None:
        if not self.unrecorded:
            return None
        first = str(self.unrecorded[0])
        more = len(self.unrecorded) - 1
        return first + (f" (and {more} more unrecorded calls)" if more else "")

    # -- the tracker's seams: which calls it tracks, which gates they pass --------------

    def begin(self, request: RequestView) -> Exchange | None:
        return None if _nested() else super().begin(request)

    def admit(self, exchange: Exchange) -> Sequence[CallGuard]:
        __tracebackhide__ = True
        self.limits.admit(exchange)
        try:
            _refuse_unrecorded(self._run, exchange, self.unrecorded)
            guards = _hold_budgets(self, exchange)
        except BaseException:
            self.limits.release(exchange)
            raise
        _ADMITTED.set(exchange)
        return guards

    def may_refuse(self) -> bool:
        return self.limits.active or super().may_refuse()

    def refuse_early(self, exchange: Exchange) -> None:
        """The test's limits, then the budgets, refuse the call when it is built."""
        __tracebackhide__ = True
        if self.cache_may_answer(exchange):
            return
        self.limits.refuse_early(exchange)
        super().refuse_early(exchange)


class SessionTracker(_Watching, TokenTracker):
    """The tracker ``patch_all`` points at during a pytest session; see the module docstring."""

    __test__ = False

    def __init__(self, run: Run) -> None:
        super().__init__(name="pytest session")
        self._run = run
        #: Replay mode: calls outside tests refused because the recording had no answer.
        self.unrecorded: list[TokenBudgetError] = []

    def begin(self, request: RequestView) -> Exchange | None:
        if _nested():
            return None
        test = self._run.current
        if test is not None:
            return test.begin(request)
        return super().begin(request)

    def may_refuse(self) -> bool:
        test = self._run.current
        return (test is not None and test.may_refuse()) or super().may_refuse()

    def admit(self, exchange: Exchange) -> Sequence[CallGuard]:
        __tracebackhide__ = True
        _refuse_unrecorded(self._run, exchange, self.unrecorded)
        guards = _hold_budgets(self, exchange)
        _ADMITTED.set(exchange)
        return guards
