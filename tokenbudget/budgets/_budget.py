"""``Budget``: a limit on what the LLM calls made in a scope may spend, and its decisions.

A budget is a decorator (sync and async functions), a context manager
(``with`` and ``async with``), or a tracker-wide limit
(``TokenTracker(max_cost_usd=...)``, ``tracker.add_budget(...)``). It decides;
its :class:`~._state.BudgetBackend` keeps the accounts. The life of a call
under a budget (see ``tokenbudget._hooks``):

1. **pre-flight** (:meth:`Budget._hold`): before the request is sent, the
   budget reserves what its policy says for it, or refuses it: the exception
   is raised from the SDK call and nothing is sent;
2. **in flight** (:meth:`Budget._check_stream`): with ``stop_streams=True`` a
   stream whose running cost would pass the limit is cut off;
3. **settle** (:meth:`Budget._settled`): the reservation is replaced by what
   the call cost; passing ``warn_at`` or the limit fires the callbacks once.
"""

from __future__ import annotations

import functools
import inspect
import logging
import warnings
from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from .._data import BudgetWarning, TokenBudgetError, UsageSummary
from ._backends import shared_backend
from ._guard import BudgetGuard
from ._scope import enter, leave
from ._state import (
    Amount,
    BackendUnavailable,
    BudgetBackend,
    BudgetState,
    InMemoryBackend,
    Limits,
    OnBackendError,
)
from ._window import Clock, Period, Window, utc_now
from ._wording import label, refusal, unavailable, unpriced, usage_text

if TYPE_CHECKING:
    from .._data import CallRecord
    from ._estimate import CallEstimate

__all__ = ["Budget", "OnExceed", "Preflight", "parse_dollars"]

logger = logging.getLogger("tokenbudget")

F = TypeVar("F", bound=Callable[..., Any])
Preflight = Literal["minimum", "worst_case", "clamp"]
OnExceed = Literal["raise", "warn"] | Callable[[TokenBudgetError], object]

_POLICIES = ("minimum", "worst_case", "clamp")
_ATTEMPTS = 5  # reservations lost to concurrent ones before refusing
_ZERO = Decimal(0)
_ONE = Decimal(1)


def parse_dollars(value: Decimal | float | str | None) -> Decimal | None:
    """A limit in dollars as an exact ``Decimal`` (a float by its shortest repr: 0.1 is 0.1).

    ``None`` stays ``None``; anything negative, infinite or not a number is a ``ValueError``.
    """
    if value is None:
        return None
    try:
        money = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        money = Decimal("NaN")
    if not money.is_finite() or money < 0:
        raise ValueError(f"max_cost_usd must be a non-negative amount, not {value!r}")
    return money


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
        if max_tokens is not None and max_tokens < 0:
            raise ValueError(f"max_tokens must be non-negative, not {max_tokens}")
        if preflight not in _POLICIES:
            raise ValueError(f"preflight must be one of {', '.join(_POLICIES)}, not {preflight!r}")
        if not (on_exceed in ("raise", "warn") or callable(on_exceed)):
            raise ValueError(f"on_exceed must be 'raise', 'warn' or a callable, not {on_exceed!r}")
        if warn_at is not None and not 0 < warn_at <= 1:
            raise ValueError(f"warn_at must be a share in (0, 1], not {warn_at}")
        if min_output_tokens < 1:
            raise ValueError(f"min_output_tokens must be at least 1, not {min_output_tokens}")
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
        return max(self._left(self.state).cost_usd, _ZERO)

    @property
    def remaining_tokens(self) -> int | None:
        """Tokens left: the limit minus what was used and what calls in flight reserve."""
        if self.limits.tokens is None:
            return None
        return max(self._left(self.state).tokens, 0)

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

    # -- pre-flight -----------------------------------------------------------------------

    def _hold(self, call: CallEstimate) -> BudgetGuard:
        """Reserve what ``call`` may use, or refuse it (also when a shared backend is away)."""
        try:
            return self._reserve(call)
        except BackendUnavailable as exc:
            raise unavailable(self, call, exc) from exc

    def _reserve(self, call: CallEstimate) -> BudgetGuard:
        """Reserve what ``call`` may use, or refuse it (as ``on_exceed`` says)."""
        window = self._window.key()
        if self.limits.cost_usd is not None and not call.priced and not self.allow_unpriced:
            self._refuse(unpriced(self, call))
        state = self.backend.read(window)
        amount, error = self._plan(call, state)
        for _ in range(_ATTEMPTS):
            if error is not None:
                break
            held, state = self.backend.reserve(window, amount, self.limits)
            if held:
                return self._guard(call, window, amount)
            amount, error = self._plan(call, state)  # a concurrent call got there first
        self._refuse(error or refusal(self, call, state, "preflight", amount))
        self.backend.reserve(window, amount, None)  # on_exceed let the call go: account for it
        return self._guard(call, window, amount)

    def _guard(self, call: CallEstimate, window: str, amount: Amount) -> BudgetGuard:
        watch = self.stop_streams and call.exchange.endpoint.stream
        return BudgetGuard(self, call, window, amount, watches_stream=watch)

    def _plan(
        self, call: CallEstimate, state: BudgetState
    ) -> tuple[Amount, TokenBudgetError | None]:
        """What to reserve for ``call`` under this budget's policy, and why not if it cannot fit."""
        limits = self.limits
        base = call.amount(0)
        if state.exceeded(limits):
            return base, refusal(self, call, state, "exceeded", base)
        if not state.fits(base, limits):
            return base, refusal(self, call, state, "preflight", base)
        if self.preflight == "minimum":
            return base, None
        ceiling = call.ceiling if call.ceiling is not None else self.default_max_output
        if ceiling is None:  # nothing bounds the output: the call holds all that is left
            left = self._left(state)
            return Amount(max(base.cost_usd, left.cost_usd), max(base.tokens, left.tokens)), None
        worst = call.amount(ceiling)
        if state.fits(worst, limits):
            if self.preflight == "clamp" and call.ceiling is None:
                call.lower_ceiling(ceiling)  # write default_max_output: the bound must hold
            return worst, None
        if self.preflight == "clamp":
            room = self._room(call, state)
            if room is not None and room >= self.min_output_tokens:
                call.lower_ceiling(min(room, ceiling))
                if call.ceiling is not None and call.ceiling <= room:
                    return call.amount(call.ceiling), None
            return worst, refusal(self, call, state, "clamp", worst)
        return worst, refusal(self, call, state, "preflight", worst)

    def _left(self, state: BudgetState) -> Amount:
        """What is neither spent nor reserved, per limited dimension (zero where unlimited)."""
        committed = state.spent + state.reserved
        cost, count = self.limits.cost_usd, self.limits.tokens
        return Amount(
            _ZERO if cost is None else cost - committed.cost_usd,
            0 if count is None else count - committed.tokens,
        )

    def _room(self, call: CallEstimate, state: BudgetState) -> int | None:
        """Output tokens that fit after the call's input, or ``None`` if output is unbounded."""
        left = self._left(state)
        rooms: list[int] = []
        if self.limits.cost_usd is not None and call.priced:
            affordable = call.affordable_output(left.cost_usd)
            if affordable is not None:
                rooms.append(affordable)
        if self.limits.tokens is not None:
            rooms.append(left.tokens - call.input_tokens)
        return min(rooms) if rooms else None

    # -- in flight and after ----------------------------------------------------------------

    def _check_stream(self, call: CallEstimate, window: str) -> TokenBudgetError | None:
        """The error to stop a stream with, once spent + its running use passes a limit."""
        input_tokens, output_tokens = call.running()
        running = call.amount(output_tokens, input_tokens)
        state = self.backend.read(window)
        total = state.spent + running
        cost, count = self.limits.cost_usd, self.limits.tokens
        if (cost is not None and call.priced and total.cost_usd > cost) or (
            count is not None and total.tokens > count
        ):
            return refusal(self, call, state, "stream", running, output_tokens=output_tokens)
        return None

    def _settled(self, before: BudgetState, after: BudgetState, record: CallRecord) -> None:
        """Fire ``warn_at`` and the crossing callbacks: a window passes each threshold once."""
        if self.warn_at is not None and self._passed(before, after, self.warn_at):
            self._warn(after)
        if self.on_exceed != "raise" and self._passed(before, after, _ONE):
            self._notify(refusal(self, None, after, "crossed", after.spent, model=record.model))

    def _passed(self, before: BudgetState, after: BudgetState, share: Decimal) -> bool:
        cost, count = self.limits.cost_usd, self.limits.tokens
        was, now = before.spent, after.spent
        return (cost is not None and was.cost_usd < cost * share <= now.cost_usd) or (
            count is not None and was.tokens < count * share <= now.tokens
        )

    def _warn(self, state: BudgetState) -> None:
        if self.on_warn is not None:
            try:
                self.on_warn(self)
            except Exception:
                logger.exception("tokenbudget: on_warn callback of %s failed", label(self))
            return
        share = f"{float(self.warn_at or _ONE):.0%}"
        used = usage_text(self.limits, state, self._window)
        warnings.warn(BudgetWarning(f"{label(self)} has used {share}: {used}"), stacklevel=2)

    def _notify(self, error: TokenBudgetError) -> None:
        """Tell ``on_exceed`` of a crossing; the call was answered and cannot be refused."""
        if self.on_exceed == "warn":
            warnings.warn(BudgetWarning(str(error)), stacklevel=2)
        elif callable(self.on_exceed):
            try:
                self.on_exceed(error)
            except Exception:
                logger.debug("tokenbudget: on_exceed raised at a crossing; ignored", exc_info=True)

    def _refuse(self, error: TokenBudgetError) -> None:
        """Raise ``error``, or let the call go as ``on_exceed`` says."""
        if self.on_exceed == "raise":
            raise error
        if self.on_exceed == "warn":
            warnings.warn(BudgetWarning(str(error)), stacklevel=2)
        else:
            self.on_exceed(error)
