"""The Redis side of one shared budget key: its window keys and the three scripts' calls.

Kept apart from :class:`~tokenbudget.redis.RedisBackend` (which decides what
to do when Redis is away) so that the outbox can send settlements through it
without keeping the backend alive.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .._data import CallRecord
from ..budgets import Amount, BudgetState, Limits
from ..store import subtract_summaries, summarize
from ._client import RedisError
from ._figures import MAX_FIGURE, OutOfRange, figures, parse, summary
from ._local import LocalView, Settlement
from ._money import from_pico, to_pico
from ._server import Server

__all__ = ["Account"]

_PERIODS = {"hour": 3_600_000, "day": 86_400_000, "month": 31 * 86_400_000}
_GRACE_MS = 3_600_000
_ZERO = Decimal(0)


def period_ms(window: str) -> int:
    """The length of ``window`` (``2026-03-01T09+0000``, ``2026-03-01``, ``2026-03``); 0: none."""
    if not window:
        return 0
    if "T" in window:
        return _PERIODS["hour"]
    return _PERIODS["day"] if len(window) == 10 else _PERIODS["month"]


def state(reply: bytes) -> BudgetState:
    """A window's state from its hash, as the scripts return it (JSON ``[field, value, ...]``)."""
    fields = json.loads(reply) or []  # an empty hash is encoded as {}
    counters = parse(zip(fields[::2], fields[1::2], strict=True))
    held = Amount(
        from_pico(counters.get("held_u", 0), counters.get("held_p", 0)),
        counters.get("held_tokens", 0),
    )
    return BudgetState(summary(counters), held)


class Account:
    """The windows of budget ``key`` on ``server``: keys, TTLs and script calls."""

    def __init__(
        self, server: Server, prefix: str, key: str, reservation_ttl: float, local: LocalView
    ) -> None:
        self.server = server
        self.prefix = prefix
        self.key = key
        self.ttl_ms = int(reservation_ttl * 1000)
        self.local = local

    def keys(self, window: str) -> list[str]:
        """The window's hash, open holds, expired holds and local settlements (one hash tag)."""
        base = f"{self.prefix}:budget:{{{self.key}}}:{window or 'total'}"
        return [base, f"{base}:held", f"{base}:expired", f"{base}:done"]

    def key_ttl(self, window: str) -> int:
        """Milliseconds the window's keys live after first use (length + grace); 0: forever."""
        period = period_ms(window)
        return period + self.ttl_ms + _GRACE_MS if period else 0

    def reserve(
        self, window: str, hold_id: str, amount: Amount, limits: Limits | None
    ) -> tuple[bool, str, BudgetState]:
        """Hold ``amount`` if it fits: (held, the hold's member, the window after)."""
        micro, pico = to_pico(amount.cost_usd)
        cost = limits.cost_usd if limits is not None else None
        tokens = limits.tokens if limits is not None else None
        limit_micro, limit_pico = to_pico(cost, up=False) if cost is not None else (0, 0)
        args: list[Any] = [
            hold_id,
            micro,
            pico,
            amount.tokens,
            int(cost is not None),
            limit_micro,
            limit_pico,
            int(tokens is not None),
            tokens or 0,
            self.ttl_ms,
            self.key_ttl(window),
        ]
        held, fields = self.server.reserve(keys=self.keys(window), args=args)
        return bool(held), f"{hold_id}:{micro}:{pico}:{amount.tokens}", state(fields)

    def settle(self, item: Settlement) -> tuple[bool, BudgetState, BudgetState]:
        """Run the settle script: whether it applied (not a repeat), the window before and after."""
        reply = self.server.settle(keys=self.keys(item.window), args=self._settle_args(item))
        return self._outcome(item, reply)

    @staticmethod
    def _outcome(item: Settlement, reply: Any) -> tuple[bool, BudgetState, BudgetState]:
        """The states around a settlement: "before" is "after" without it (one reply, not two)."""
        applied, released, snapshot = reply
        after = state(snapshot)
        if not applied:
            return False, after, after
        usage = after.usage
        if item.record is not None:
            usage = subtract_summaries(usage, summarize([item.record]))
        reserved = after.reserved + item.held if released else after.reserved
        return True, BudgetState(usage, reserved), after

    def read(self, window: str) -> BudgetState:
        """The window as Redis has it, after releasing expired holds."""
        return state(self.server.read(keys=self.keys(window), args=[self.key_ttl(window)]))

    def send(self, items: Sequence[Settlement]) -> None:
        """Send deferred settlements in one pipeline (the outbox's sender); raises on failure."""
        pipe = self.server.client.pipeline(transaction=False)
        for item in items:
            self.server.settle(
                keys=self.keys(item.window), args=self._settle_args(item), client=pipe
            )
        try:
            replies = pipe.execute()
        except RedisError as exc:
            self.server.failed(exc)
            raise
        self.server.answered()
        for item, reply in zip(items, replies, strict=True):
            self.local.sent(item, self._outcome(item, reply)[2])

    def clear(self) -> None:
        """Delete every window of the key."""
        client = self.server.client
        names = list(client.scan_iter(match=f"{self.prefix}:budget:{{{self.key}}}:*", count=500))
        if names:
            client.delete(*names)

    @staticmethod
    def check(record: CallRecord) -> None:
        """Raise :class:`OutOfRange` when Redis could not count ``record``."""
        figures(record)
        micro, _ = to_pico(record.cost_usd or _ZERO)
        for name, value in (("total_tokens", record.total_tokens), ("cost micro-dollars", micro)):
            if not 0 <= value <= MAX_FIGURE:
                raise OutOfRange(f"{name}={value} is out of range for a shared budget")

    def _settle_args(self, item: Settlement) -> list[Any]:
        record: CallRecord | None = item.record
        micro, pico = to_pico(item.held.cost_usd)
        cost = to_pico(record.cost_usd or _ZERO) if record is not None else (0, 0)
        usage = figures(record) if record is not None else {}
        return [
            item.hold.member,
            item.hold.id,
            micro,
            pico,
            item.held.tokens,
            *cost,
            record.total_tokens if record is not None else 0,
            self.key_ttl(item.window),
            " ".join(f"{name} {value}" for name, value in usage.items()),
        ]
