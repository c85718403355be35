"""Repricing past calls after a price correction, and the report of what changed.

A stored call is priced again from its normalised usage, at its own
timestamp, with the same rules as when it was recorded: a failed call (HTTP
400 and above) and a call with no billable usage keep their zero cost; a cache
hit keeps costing zero and gets a new *saved* figure; a cost the provider
reported itself wins over any price. The provider's raw usage object stays in
the record for audit and is not read again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .._data import CallRecord, Usage

__all__ = ["ModelChange", "Pricer", "RepriceResult", "RepriceTally", "new_costs"]

#: Prices one usage: ``(provider, model, usage, service_tier, at) -> cost or None``.
Pricer = Callable[[str, "str | None", Usage, "str | None", datetime], "Decimal | None"]

_ZERO = Decimal(0)


def _billable(usage: Usage) -> bool:
    return usage.total_tokens > 0 or any(usage.extra.values())


def new_costs(record: CallRecord, price: Pricer) -> tuple[Decimal | None, Decimal | None] | None:
    """The record's ``(cost_usd, saved_cost_usd)`` under ``price``; ``None``: not repriceable."""
    if record.status_code is not None and record.status_code >= 400:
        return None
    if not _billable(record.usage) and record.usage.reported_cost_usd is None:
        return None
    cost = price(record.provider, record.model, record.usage, record.service_tier, record.timestamp)
    if record.cached:
        return _ZERO, cost
    return cost, record.saved_cost_usd


@dataclass(frozen=True)
class ModelChange:
    """How the cost of one provider's model changed."""

    provider: str
    model: str
    changed: int
    old_cost: Decimal
    new_cost: Decimal

    @property
    def delta(self) -> Decimal:
        """New cost minus old cost."""
        return self.new_cost - self.old_cost


@dataclass(frozen=True)
class RepriceResult:
    """What a reprice did: how many calls it checked and changed, and the money moved.

    ``old_total`` and ``new_total`` are the cost of the checked calls before and
    after (unpriced calls count as zero in them; ``newly_priced`` and
    ``newly_unpriced`` count the calls that gained or lost a price).
    ``by_model`` lists only the models whose calls changed.
    """

    checked: int
    changed: int
    old_total: Decimal
    new_total: Decimal
    newly_priced: int
    newly_unpriced: int
    by_model: tuple[ModelChange, ...]
    price_version: str | None
    dry_run: bool = False
    #: Calls not checked because they were already priced with ``price_version``.
    skipped: int = 0

    @property
    def delta(self) -> Decimal:
        """New total minus old total."""
        return self.new_total - self.old_total

    def __str__(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        lines = [
            f"checked {self.checked} calls, {verb} {self.changed}"
            f" (prices {self.price_version or 'unknown'})",
            f"total: ${_plain(self.old_total)} -> ${_plain(self.new_total)}"
            f" ({_signed(self.delta)})",
        ]
        if self.skipped:
            lines.append(
                f"skipped {self.skipped} calls already priced with these prices"
                " (force / --all checks them too)"
            )
        if self.newly_priced or self.newly_unpriced:
            lines.append(
                f"newly priced: {self.newly_priced}, newly unpriced: {self.newly_unpriced}"
            )
        for change in self.by_model:
            lines.append(
                f"  {change.provider}/{change.model}: {change.changed} calls,"
                f" ${_plain(change.old_cost)} -> ${_plain(change.new_cost)}"
                f" ({_signed(change.delta)})"
            )
        return "\n".join(lines)


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def _signed(value: Decimal) -> str:
    return ("+$" if value >= 0 else "-$") + _plain(abs(value))


class _ModelTally:
    __slots__ = ("changed", "new", "old")

    def __init__(self) -> None:
        self.changed = 0
        self.old = _ZERO
        self.new = _ZERO


class RepriceTally:
    """Accumulates per-call outcomes into a :class:`RepriceResult`."""

    def __init__(self) -> None:
        self.checked = 0
        self.changed = 0
        self.old_total = _ZERO
        self.new_total = _ZERO
        self.newly_priced = 0
        self.newly_unpriced = 0
        self._models: dict[tuple[str, str], _ModelTally] = {}

    def add(self, record: CallRecord, cost: Decimal | None, saved: Decimal | None) -> bool:
        """Count one checked call; True when its cost or saved cost changed."""
        self.checked += 1
        old = record.cost_usd
        self.old_total += old or _ZERO
        self.new_total += cost or _ZERO
        if old == cost and record.saved_cost_usd == saved:
            return False
        self.changed += 1
        if old is None and cost is not None:
            self.newly_priced += 1
        elif old is not None and cost is None:
            self.newly_unpriced += 1
        key = (record.provider, record.model or "unknown")
        tally = self._models.get(key)
        if tally is None:
            tally = self._models[key] = _ModelTally()
        tally.changed += 1
        tally.old += old or _ZERO
        tally.new += cost or _ZERO
        return True

    def result(
        self, price_version: str | None, *, dry_run: bool, skipped: int = 0
    ) -> RepriceResult:
        """The final report."""
        changes = tuple(
            ModelChange(provider, model, tally.changed, tally.old, tally.new)
            for (provider, model), tally in sorted(self._models.items())
        )
        return RepriceResult(
            checked=self.checked,
            changed=self.changed,
            old_total=self.old_total,
            new_total=self.new_total,
            newly_priced=self.newly_priced,
            newly_unpriced=self.newly_unpriced,
            by_model=changes,
            price_version=price_version,
            dry_run=dry_run,
            skipped=skipped,
        )
