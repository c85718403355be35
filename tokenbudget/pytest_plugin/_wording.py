"""What the plugin's failures say: the money, the limit, the calls that spent it, what to do."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .._data import CallRecord
from ..reports import usd

__all__ = ["ModelCost", "call_lines", "calls_text", "charged", "top_models", "usd"]

_ZERO = Decimal(0)
#: At most this many calls are listed in an assertion message.
MAX_LISTED = 10


def charged(record: CallRecord, replaying: bool) -> Decimal:
    """What ``record`` counts for: its cost, or for a replayed call, its recorded cost."""
    cost = record.cost_usd or _ZERO
    if replaying and record.cached:
        cost += record.saved_cost_usd or _ZERO
    return cost


@dataclass(frozen=True)
class ModelCost:
    """One model's share of a test: calls, tokens, cost (recorded cost when replayed)."""

    calls: int = 0
    total_tokens: int = 0
    cost_usd: Decimal = _ZERO

    def __add__(self, other: ModelCost) -> ModelCost:
        return ModelCost(
            self.calls + other.calls,
            self.total_tokens + other.total_tokens,
            self.cost_usd + other.cost_usd,
        )


def by_model(records: Iterable[CallRecord], replaying: bool) -> dict[str, ModelCost]:
    """Calls, tokens and cost per billed model, costliest first."""
    found: dict[str, ModelCost] = {}
    for record in records:
        name = record.model or "(unknown model)"
        one = ModelCost(1, record.total_tokens, charged(record, replaying))
        found[name] = found.get(name, ModelCost()) + one
    return dict(sorted(found.items(), key=lambda item: (-item[1].cost_usd, item[0])))


def top_models(models: dict[str, ModelCost], limit: int = 3) -> str:
    """``gpt-4o $0.011 (2 calls), gpt-4o-mini $0.0013``."""
    parts = []
    for name, share in list(models.items())[:limit]:
        calls = f" ({share.calls} calls)" if share.calls > 1 else ""
        parts.append(f"{name} {usd(share.cost_usd)}{calls}")
    if len(models) > limit:
        parts.append(f"and {len(models) - limit} more")
    return ", ".join(parts)


def calls_text(count: int) -> str:
    """``1 call``, ``3 calls``."""
    return f"{count} call" if count == 1 else f"{count} calls"


def call_lines(records: Sequence[CallRecord], replaying: bool) -> list[str]:
    """One indented line per call, for an assertion message."""
    lines = []
    for index, record in enumerate(records[:MAX_LISTED], start=1):
        cost = "unpriced" if record.cost_usd is None else usd(charged(record, replaying))
        notes = []
        if replaying and record.cached:
            notes.append("replayed")
        if record.error:
            notes.append(record.error)
        note = f" [{'; '.join(notes)}]" if notes else ""
        lines.append(
            f"  {index}. {record.provider} {record.model or '?'} {record.endpoint}: "
            f"{record.input_tokens:,} in + {record.output_tokens:,} out tokens, {cost}{note}"
        )
    if len(records) > MAX_LISTED:
        lines.append(f"  ... and {len(records) - MAX_LISTED} more")
    return lines
