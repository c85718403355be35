"""``Budget``: a limit on what the LLM calls made in a scope may spend.

A budget is a decorator (sync and async functions), a context manager
(``with`` and ``async with``), or a tracker-wide limit
(``TokenTracker(max_cost_usd=...)``, ``tracker.add_budget(...)``). This module
holds what users see of it: its arguments, what they read, and its scope. It
decides; its :class:`~._state.BudgetBackend` keeps the accounts. The life of a
call under a budget:

1. **pre-flight** (:func:`._admission.admit`, from the gate in :mod:`._gate`):
   before the request is sent, the budget reserves what its policy says for
   it, or refuses it: the exception is raised from the SDK call and nothing is
   sent;
2. **in flight** (:func:`._reactions.check_stream`, asked by the call's
   :class:`~._guard.BudgetGuard`): with ``stop_streams=True`` a stream whose
   running cost would pass the limit is cut off;
3. **settle** (:meth:`._guard.BudgetGuard.settle`, then
   :func:`._reactions.settled`): the reservation is replaced by what the call
   cost; passing ``warn_at`` or the limit fires the callbacks once.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar, cast

from .._data import UsageSummary, plain_decimal
from ._admission import left
from ._arguments import OnExceed, Preflight, check_arguments, parse_dollars
from ._backends import shared_backend
from ._first import budget_made
from ._scope import enter, leave
from ._state import BudgetBackend, BudgetState, InMemoryBackend, Limits, OnBackendError
from ._window import Clock, Period, Window, utc_now
from ._wording import usage_text

__all__ = ["Budget"]

F = TypeVar("F", bound=Callable[..., Any])

_ZERO = Decimal(0)


class Budget:
    """A limit on the money and/or tokens the LLM calls in a scope may use.

    ``tokenbudget.budget(...)`` is this class. Use it as a decorator, a
    context manager, or a tracker-wide limit (``tracker.add_budget(...)``)::

        @budget(max_cost_usd=0.50)
        def summarize(document): ...

        with budget(max_cost_usd=5, max_tokens=200_000, name="nightly") as ctx:
            run_batch()
            print(ctx.remaining_budget, ctx.current_usage)

    Read it at any time: ``remaining_budget``, ``remaining_tokens``,
    ``current_usage``, ``exceeded``, ``unpriced_calls``, ``state`` (spent and
    reserved), ``resets_at``.

    Args:
        max_cost_usd: the most the calls may cost, in dollars (``Decimal``,
            ``str``, ``int`` or ``float``); a call to a model with no known
            price is then refused before sending, unless ``allow_unpriced``.
        max_tokens: the most input plus output tokens the calls may use.
        tracker: count only the calls this tracker records (default: every
            call made in the scope, whichever tracker records it).
        name: shown in errors and warnings; errors carry it as ``budget_name``.
        preflight: ``"minimum"`` (default) refuses a call whose input alone
            cannot fit, and every call once the budget is spent;
            ``"worst_case"`` reserves input plus the request's output ceiling,
            so concurrent calls can never overshoot together; ``"clamp"`` is
            ``worst_case`` that lowers the request's ``max_tokens`` to what is
            left, down to ``min_output_tokens``.
        on_exceed: ``"raise"`` (default) refuses; ``"warn"`` issues a
            :class:`~tokenbudget.BudgetWarning` and lets the call go; a
            callable gets the error and lets the call go unless it raises (raise
            a ``TokenBudgetError``, e.g. the one given, to refuse). ``"warn"``
            and callables also hear, once, of the call that crossed the limit.
        warn_at: a share of a limit (``0.8``) at which to warn once per window:
            ``on_warn(budget)`` if given, else a ``BudgetWarning``.
        stop_streams: cut a stream off once its running cost passes the limit.
        per: ``"hour"``, ``"day"`` or ``"month"``: the limits apply to each
            calendar window of ``tz`` (UTC) and reset at its boundary.
        clock: a callable returning the current aware datetime (windows).
        allow_unpriced: let calls to unpriced models through a cost budget;
            their tokens count, their cost is unknown (``unpriced_calls``).
        min_output_tokens: the floor ``clamp`` never lowers a request below (16).
        default_max_output: the output ceiling assumed for a request that sets
            none (``worst_case``/``clamp``; ``clamp`` also writes it into the
            request). Without it such a request reserves all that is left.
        backend: where the accounts are kept (default: in this process); a
            ``"redis://host:6379/0"`` URL or a ``tokenbudget.redis.RedisBackend``
            shares one account between processes and machines (``key=`` names it).
        key: the shared account's name (``"team-a:gpt5"``): every budget with
            the same key and backend draws on one limit.
        on_backend_error: ``"refuse"`` (default) or ``"allow_local"``: what a
            shared budget does when its backend cannot be reached (see
            ``tokenbudget.redis``).
    """

    def __init__(
        self,
        max_cost_usd: Decimal | float | str | None = None,
        max_tokens: int | None = None,
        tracker: object | None = None,
        name: str | None = None,
        *,
        preflight: Preflight = "minimum",
        on_exceed: OnExceed = "raise",
        warn_at: float | None = None,
        on_warn: Callable[[Budget], object] | None = None,
        stop_streams: bool = False,
        per: Period | None = None,
        tz: tzinfo = timezone.utc,
        clock: Clock = utc_now,
        allow_unpriced: bool = False,
        min_output_tokens: int = 16,
        default_max_output: int | None = None,
        backend: BudgetBackend | str | None = None,
        key: str | None = None,
        on_backend_error: OnBackendError | None = None,
    ) -> None:
        #: Everything given, to build this budget's twin for each call of a decorated function.
        self._settings = {key: value for key, value in locals().items() if key != "self"}
        budget_made()
        check_arguments(
            max_tokens=max_tokens,
            preflight=preflight,
            on_exceed=on_exceed,
            warn_at=warn_at,
            min_output_tokens=min_output_tokens,
        )
        self.limits = Limits(parse_dollars(max_cost_usd), max_tokens)
        self.tracker = tracker
        self.name = name
        self.preflight: Preflight = preflight
        self.on_exceed: OnExceed = on_exceed
        self.warn_at = None if warn_at is None else Decimal(str(warn_at))
        self.on_warn = on_warn
        self.stop_streams = stop_streams
        self.allow_unpriced = allow_unpriced
        self.min_output_tokens = min_output_tokens
        self.default_max_output = default_max_output
        self._window = Window(per, tz, clock)
        if (
            isinstance(backend, str)
            or hasattr(backend, "for_key")  # a RedisBackend, which needs a key
            or key is not None
            or on_backend_error is not None
        ):
            backend = shared_backend(backend, key=key, on_error=on_backend_error)
        #: One account for every call of a decorated function (else one per call).
        self._shared = per is not None or backend is not None
        self.backend: BudgetBackend = backend if backend is not None else InMemoryBackend()

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<Budget{label} {usage_text(self.limits, self.state, self._window)}>"

    # -- what users read ------------------------------------------------------------

    @property
    def max_cost_usd(self) -> Decimal | None:
        """The cost limit in dollars, or ``None``."""
        return self.limits.cost_usd

    @property
    def max_tokens(self) -> int | None:
        """The token limit (input plus output), or ``None``."""
        return self.limits.tokens

    @property
    def per(self) -> Period | None:
        """The calendar window the limits apply to, or ``None``."""
        return self._window.per

    @property
    def state(self) -> BudgetState:
        """The current window: calls settled in it and what calls in flight reserve."""
        return self.backend.read(self._window.key())

    @property
    def current_usage(self) -> UsageSummary:
        """Calls, tokens and cost recorded under this budget (in the current window)."""
        return self.state.usage

    @property
    def remaining_budget(self) -> Decimal | None:
        """Dollars left: the limit minus what was spent and what calls in flight reserve."""
        if self.limits.cost_usd is None:
            return None
        # Reserving and settling leave zeros behind (0.99980): print like any cost.
        return plain_decimal(max(left(self, self.state).cost_usd, _ZERO))

    @property
    def remaining_tokens(self) -> int | None:
        """Tokens left: the limit minus what was used and what calls in flight reserve."""
        if self.limits.tokens is None:
            return None
        return max(left(self, self.state).tokens, 0)

    @property
    def exceeded(self) -> bool:
        """True once a limit is reached: every later call in this window is refused."""
        return self.state.exceeded(self.limits)

    @property
    def unpriced_calls(self) -> int:
        """Calls to unpriced models (``allow_unpriced=True``): tokens counted, cost unknown."""
        return self.state.usage.unpriced_calls

    @property
    def resets_at(self) -> datetime | None:
        """When the current window ends (UTC), or ``None`` for a budget without windows."""
        return self._window.resets_at()

    def reset(self) -> None:
        """Forget everything spent and reserved."""
        self.backend.clear()

    # -- scope ---------------------------------------------------------------------------

    def __enter__(self) -> Budget:
        enter(self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        leave(self)

    async def __aenter__(self) -> Budget:
        return self.__enter__()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        leave(self)

    def __call__(self, fn: F) -> F:
        """Decorate ``fn``: each call runs under a fresh budget with these settings.

        A windowed budget (``per=``) or one with its own ``backend=`` is one
        account shared by every call instead. Inside ``fn``,
        :func:`~tokenbudget.current_budget` gives the budget of the call.
        """

        def scope() -> Budget:
            return self if self._shared else Budget(**self._settings)

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with scope():
                    return await fn(*args, **kwargs)

            return cast(F, run_async)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with scope():
                return fn(*args, **kwargs)

        return cast(F, run)
