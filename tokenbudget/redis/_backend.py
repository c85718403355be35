"""``RedisBackend``: one budget account shared by every process and machine, in Redis.

>>> budget(max_cost_usd=200, per="day", key="team-a:gpt5",
...        backend="redis://redis.internal:6379/0")          # doctest: +SKIP

Each operation of :class:`~tokenbudget.budgets.BudgetBackend` is one Lua
script run atomically by Redis (see ``_lua`` for the keys and for why Lua):
``reserve`` checks the window's spent + held + the call against the limits and
holds it, ``settle`` replaces a hold by the call's cost, ``read`` returns the
window. Windows are the budget's own (``per=``), computed by each process from
its clock; each window's keys expire one window length (plus the reservation
TTL and an hour) after their first use.

**Reservations never leak.** Each hold has an id and an expiry (Redis time +
``reservation_ttl``); every script first releases the holds that expired, so a
worker that died after reserving blocks nothing for longer than the TTL. The
TTL must exceed the longest call (default 10 minutes). A call that settles
after its hold expired still counts its cost.

**Settling is exactly-once.** A settlement whose reply was lost is retried; the
script recognises one it already applied (the hold is neither open nor expired)
and skips it.

**When Redis is away** (refused, timed out: waits are bounded, see ``_client``):

- ``on_error="refuse"`` (default): calls are refused before sending, with a
  budget error saying the shared budget cannot be reached;
- ``on_error="allow_local"``: each process admits calls against what it saw
  last (the shared state at its last successful round trip, zero if none) plus
  its own spending since; N processes may then together overshoot by up to N
  times what was left. Calls admitted this way are counted in Redis when they
  settle, so after recovery the shared account holds everything spent.

Either way settlements made while Redis is away are kept: they wait in an
outbox sent by a background thread when Redis answers again, and before the
next reservation. It is bounded (``max_pending``, 100,000: past it the oldest
are dropped, with an error logged). Reads show the last shared state plus
this process's unsent changes. At exit, one last attempt is made (2 s).
"""

from __future__ import annotations

import logging
import secrets
import threading
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

from .._core import after_fork_in_child
from .._data import CallRecord
from ..budgets import Amount, BackendUnavailable, BudgetState, Limits, OnBackendError
from ._account import Account
from ._client import DEFAULT_TIMEOUT, RedisError, connect, refused, safe_url, sync_client
from ._figures import OutOfRange
from ._local import Hold, LocalView, Outbox, Settlement
from ._server import Server

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["OnBackendError", "RedisBackend"]

logger = logging.getLogger("tokenbudget")

_POLICIES = ("refuse", "allow_local")


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key or "{" in key or "}" in key:
        raise ValueError(f"a shared budget key is a non-empty string without braces, not {key!r}")
    return key


class RedisBackend:
    """A budget's accounts in Redis, shared by every process that uses the same ``key``.

    Args:
        client: a ``redis.Redis`` (or ``redis.asyncio.Redis``) client; give it
            short socket timeouts (see ``tokenbudget.redis``). Or:
        url: ``redis://host:6379/0`` (``rediss://``, ``unix://``): a client
            with 0.5 s connect and read timeouts (``timeout=``).
        key: the account's name, e.g. ``"team-a:gpt5"``; every process using
            it shares one limit. ``budget(key=...)`` gives it too.
        on_error: ``"refuse"`` or ``"allow_local"``: what reservations do while
            Redis cannot be reached (see the module docstring).
        reservation_ttl: seconds after which a hold whose call never settled is
            released (a crashed worker); longer than your longest call.
        retry_after: seconds to leave Redis alone after a failure.
        max_pending: settlements kept while Redis is away; the oldest are dropped past it.
        prefix: the first part of every key.
    """

    def __init__(
        self,
        client: Any = None,
        *,
        url: str | None = None,
        key: str | None = None,
        on_error: OnBackendError = "refuse",
        reservation_ttl: float = 600.0,
        timeout: float = DEFAULT_TIMEOUT,
        retry_after: float = 1.0,
        max_pending: int = 100_000,
        prefix: str = "tokenbudget",
        _server: Server | None = None,
    ) -> None:
        if on_error not in _POLICIES:
            raise ValueError(f"on_error must be 'refuse' or 'allow_local', not {on_error!r}")
        if reservation_ttl <= 0:
            raise ValueError(f"reservation_ttl must be positive, not {reservation_ttl}")
        if _server is None:
            if (client is None) == (url is None):
                raise ValueError("give RedisBackend a client or a url (one of them)")
            redis_client: Redis = connect(url, timeout) if url else sync_client(client)
            _server = Server(redis_client, safe_url(url) if url else None, retry_after=retry_after)
        self.key = None if key is None else _check_key(key)
        self.on_error: OnBackendError = on_error
        self.reservation_ttl = reservation_ttl
        self.prefix = prefix
        self._max_pending = max_pending
        self._server = _server
        self._local = LocalView()
        self._account = Account(_server, prefix, self.key or "", reservation_ttl, self._local)
        self._holds: dict[tuple[str, Amount], deque[Hold]] = {}
        self._holds_lock = threading.Lock()
        self._outbox = Outbox(
            self._account.send, max_pending=max_pending, pause=_server.retry_after, name=self._name
        )
        self._finalizer = weakref.finalize(self, self._outbox.close)
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        """In a forked child: the holds of the parent's calls are the parent's to settle."""
        self._holds_lock = threading.Lock()
        self._holds = {}

    def __repr__(self) -> str:
        return f"<RedisBackend {self._name}>"

    @property
    def _name(self) -> str:
        return f"shared budget {self.key!r} at {self._server.url}"

    @property
    def url(self) -> str:
        """The server, without its password."""
        return self._server.url

    @property
    def client(self) -> Redis:
        """The (sync) redis client in use."""
        return self._server.client

    def for_key(self, key: str | None, on_error: OnBackendError | None = None) -> RedisBackend:
        """This backend's server and settings for another ``key`` (and policy)."""
        return RedisBackend(
            key=key or self.key,
            on_error=on_error or self.on_error,
            reservation_ttl=self.reservation_ttl,
            max_pending=self._max_pending,
            prefix=self.prefix,
            _server=self._server,
        )

    # -- BudgetBackend ----------------------------------------------------------------

    def reserve(
        self, window: str, amount: Amount, limits: Limits | None
    ) -> tuple[bool, BudgetState]:
        """Hold ``amount`` in Redis if it fits (see the module docstring for outages)."""
        self._need_key()
        hold_id = secrets.token_hex(8)
        if self._server.usable():
            try:
                self._outbox.send_now()  # this process's spending first: admissions must see it
                held, member, state = self._account.reserve(window, hold_id, amount, limits)
            except RedisError as exc:
                self._failed(exc)
            else:
                self._answered()
                if held:
                    self._remember(window, amount, Hold(hold_id, member))
                return held, self._local.observe(window, state)
        if self.on_error == "refuse":
            raise BackendUnavailable(f"the {self._name} cannot be reached ({self._server.error})")
        held, state = self._local.reserve(window, amount, limits)
        if held:
            self._remember(window, amount, Hold(hold_id, ""))
        return held, state

    def settle(
        self, window: str, held: Amount, record: CallRecord | None
    ) -> tuple[BudgetState, BudgetState]:
        """Release the hold of ``held`` and count ``record``; kept while Redis is away.

        A record whose figures Redis cannot count (see ``_figures.MAX_FIGURE``)
        releases its hold without being counted, with an error logged: counted,
        it would refuse every later call of every process.
        """
        if record is not None:
            try:
                Account.check(record)
            except OutOfRange as exc:
                self._uncountable(exc)
                record = None
        hold = self._forget(window, held) or Hold(secrets.token_hex(8), "")
        if not hold.member:  # held in this process only: Redis has nothing to release
            before, after = self._local.release(window, held)
            if record is None:
                return before, after
            held = Amount()
        return self._settle(Settlement(window, hold, held, record))

    def _settle(self, item: Settlement) -> tuple[BudgetState, BudgetState]:
        if self._server.usable():
            try:
                _, before, after = self._account.settle(item)
            except RedisError as exc:
                if refused(exc) and item.record is not None:  # the script wrote nothing
                    self._uncountable(exc)
                    return self._settle(Settlement(item.window, item.hold, item.held, None))
                self._failed(exc)
            else:
                self._answered()
                return self._local.observe_change(item.window, before, after)
        changed = self._local.defer(item)
        self._outbox.put(item)
        return changed

    def read(self, window: str) -> BudgetState:
        """The window's state in Redis plus this process's unsent changes."""
        self._need_key()
        if self._server.usable():
            try:
                found = self._account.read(window)
            except RedisError as exc:
                self._failed(exc)
            else:
                self._answered()
                return self._local.observe(window, found)
        return self._local.state(window)

    def clear(self) -> None:
        """Delete every window of this key in Redis (for every process) and forget local state."""
        self._need_key()
        try:
            self._account.clear()
        except RedisError as exc:
            self._failed(exc)
            raise BackendUnavailable(f"the {self._name} cannot be reached ({exc})") from exc
        self._local.clear()
        with self._holds_lock:
            self._holds.clear()

    # -- what else users may call --------------------------------------------------------

    @property
    def pending(self) -> int:
        """Settlements waiting for Redis to come back."""
        return len(self._outbox)

    @property
    def dropped(self) -> int:
        """Settlements dropped because more than ``max_pending`` waited."""
        return self._outbox.dropped

    def flush(self, timeout: float = 5.0) -> bool:
        """Send waiting settlements now (trying for up to ``timeout`` s); True when none is left."""
        return self._outbox.flush(timeout)

    def close(self) -> None:
        """Send what waits (trying for up to 2 s); also done at exit."""
        self._finalizer()

    # -- bookkeeping ---------------------------------------------------------------------

    def _need_key(self) -> None:
        if self.key is None:
            raise ValueError("this RedisBackend has no key: give key=... to it or to budget()")

    def _remember(self, window: str, amount: Amount, hold: Hold) -> None:
        with self._holds_lock:
            self._holds.setdefault((window, amount), deque()).append(hold)

    def _forget(self, window: str, amount: Amount) -> Hold | None:
        """The oldest open hold of ``amount`` in ``window`` (holds of one amount are alike)."""
        with self._holds_lock:
            holds = self._holds.get((window, amount))
            if not holds:
                return None
            hold = holds.popleft()
            if not holds:
                del self._holds[(window, amount)]
            return hold

    def _failed(self, error: Exception) -> None:
        if self._server.failed(error):
            action = (
                "calls are refused"
                if self.on_error == "refuse"
                else "calls are admitted against this process's own view (allow_local)"
            )
            logger.warning(
                "tokenbudget: the %s cannot be reached (%s); %s, and settlements are kept"
                " until it answers again",
                self._name,
                error,
                action,
            )

    def _uncountable(self, error: Exception) -> None:
        logger.error(
            "tokenbudget: the %s cannot count a call: %s; its hold is released and the call"
            " is not counted in the shared budget (the tracker's records keep it)",
            self._name,
            error,
        )

    def _answered(self) -> None:
        self._server.answered()
