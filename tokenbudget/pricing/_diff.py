"""``tokenbudget prices diff``: where another price list charges a different amount.

Both sides are priced by the same engine: the other list (LiteLLM's JSON or
genai-prices' ``data.json``, converted to price files) is compiled model by
model, and each of its models that the book knows, at a provider the book has
prices for, is priced for a few fixed usage mixes. A row is reported when the
two costs differ by more than a relative threshold. Comparing costs, not price
fields, shows what a user would actually be charged differently: defaults
(cached input at the input price), tiers and batch multipliers included.

A variant mix (batch, flex, priority) is compared only where both sides have
that variant, and the long-context mix only where either side has prompt-size
tiers: elsewhere both would fall back to the standard price and say nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from .._data import Usage
from ._book import PriceBook
from ._merge import period_at
from ._model import ModelPrice
from ._period import normalize_tier
from ._schema import PriceFile

__all__ = ["MIXES", "CostDiff", "DiffStats", "Mix", "compare_prices"]


@dataclass(frozen=True)
class Mix:
    """A usage to price both sides at, with its variant (service tier, batch)."""

    name: str
    usage: Usage
    service_tier: str | None = None
    batch: bool = False


_STANDARD = Usage(input_tokens=10_000, output_tokens=2_000)
#: The usage mixes ``prices diff`` knows, by name; ``standard`` is the default.
MIXES: dict[str, Mix] = {
    mix.name: mix
    for mix in (
        Mix("standard", _STANDARD),
        Mix("cached", Usage(input_tokens=10_000, cached_input_tokens=8_000, output_tokens=2_000)),
        Mix("long", Usage(input_tokens=300_000, output_tokens=2_000)),
        Mix("batch", _STANDARD, batch=True),
        Mix("flex", _STANDARD, service_tier="flex"),
        Mix("priority", _STANDARD, service_tier="priority"),
    )
}


@dataclass(frozen=True)
class CostDiff:
    """One model and mix whose costs differ: ours, theirs, and (theirs - ours) / ours.

    ``relative`` is ``None`` when ours is zero and theirs is not.
    """

    provider: str
    model: str
    ours_model: str
    mix: str
    ours: Decimal
    theirs: Decimal
    relative: Decimal | None

    def sort_key(self) -> tuple[Decimal, str, str, str]:
        """Largest relative difference first, then by provider, model and mix."""
        size = Decimal("Infinity") if self.relative is None else abs(self.relative)
        return (-size, self.provider, self.model, self.mix)


@dataclass
class DiffStats:
    """How many of the other list's models were compared, and why the others were not."""

    compared: int = 0
    rows: int = 0
    unknown: int = 0
    unpriced: int = 0
    other_providers: int = 0


def compare_prices(
    book: PriceBook,
    files: Iterable[PriceFile],
    *,
    mixes: Sequence[str] = ("standard",),
    threshold: Decimal = Decimal("0.005"),
    at: datetime | None = None,
) -> tuple[list[CostDiff], DiffStats]:
    """Rows where ``files`` charge more than ``threshold`` (relative) apart from ``book``."""
    moment = at or datetime.now(timezone.utc)
    known = set(book.providers())
    stats = DiffStats()
    rows: list[CostDiff] = []
    for file in files:
        if file.provider not in known:
            stats.other_providers += len(file.models)
            continue
        for entry in file.models:
            theirs = ModelPrice(entry.id, file.provider, entry, "against", file.batch_multiplier)
            ours = book.resolve(entry.id, file.provider, at=moment)
            if ours is None:
                stats.unknown += 1
                continue
            if not (ours.priced and theirs.priced):
                stats.unpriced += 1
                continue
            stats.compared += 1
            for name in mixes:
                row = _compare(ours, theirs, MIXES[name], moment, threshold)
                if row is not None:
                    rows.append(row)
    rows.sort(key=CostDiff.sort_key)
    stats.rows = len(rows)
    return rows, stats


def _compare(
    ours: ModelPrice, theirs: ModelPrice, mix: Mix, at: datetime, threshold: Decimal
) -> CostDiff | None:
    if not (_has(ours, mix, at) and _has(theirs, mix, at)):
        return None
    if mix.name == "long" and not (_tiered(ours, at) or _tiered(theirs, at)):
        return None
    tier, batch = mix.service_tier, mix.batch
    mine = ours.cost(mix.usage, service_tier=tier, batch=batch, at=at) or Decimal(0)
    other = theirs.cost(mix.usage, service_tier=tier, batch=batch, at=at) or Decimal(0)
    if mine == other:
        return None
    relative = None if mine == 0 else (other - mine) / mine
    if relative is not None and abs(relative) <= threshold:
        return None
    return CostDiff(
        theirs.provider,
        theirs.model,
        f"{ours.provider}/{ours.model}",
        mix.name,
        mine,
        other,
        relative,
    )


def _has(price: ModelPrice, mix: Mix, at: datetime) -> bool:
    """Whether ``price`` has its own sheet for the mix's variant."""
    period = period_at(price.entry.prices, at)
    if period is None:
        return False
    if mix.batch:
        return period.batch is not None or price.batch_multiplier is not None
    tier = normalize_tier(mix.service_tier)
    return tier is None or tier in period.service_tiers


def _tiered(price: ModelPrice, at: datetime) -> bool:
    period = period_at(price.entry.prices, at)
    return period is not None and bool(period.tiers)
