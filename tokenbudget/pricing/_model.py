"""``ModelPrice``: one model's compiled prices, and the cost of a usage at them.

A :class:`ModelPrice` is built once from a validated schema entry (see
``_schema.py``) and then only read: choosing the price period for a date (here),
the variant for a service tier or batch (``_period.py``), the tier for the
prompt size and the arithmetic (``_rates.py``). Nothing here touches pydantic on
the hot path.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .._data import Usage
from ._errors import UnpricedModelError
from ._period import STANDARD_TIERS, CompiledPeriod, normalize_tier, timestamp
from ._rates import CompiledRates
from ._schema import ModelEntry

__all__ = ["ModelPrice"]

_FOREVER = float("inf")


@dataclass(frozen=True, eq=False)
class ModelPrice:
    """The prices of one model at one provider.

    Per-1M-token prices (``input_per_1m`` ...) are ``Decimal`` and describe the
    standard tier today, below any prompt-size tier; ``input_per_1k`` and
    ``output_per_1k`` are floats, as in tokenbudget 0.1. :meth:`cost` prices a
    :class:`~tokenbudget.Usage` with every dimension (tiers, batch, service tier,
    date). A model whose provider publishes no price has ``unpriced`` set to the
    reason and costs ``None``.
    """

    model: str
    provider: str
    entry: ModelEntry = field(repr=False)
    origin: str = "built-in"
    batch_multiplier: Decimal | None = field(default=None, repr=False)
    _periods: tuple[CompiledPeriod, ...] = field(init=False, repr=False)
    _starts: tuple[float, ...] = field(init=False, repr=False)
    _current: tuple[CompiledPeriod | None, float, float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        periods = tuple(CompiledPeriod(p, self.batch_multiplier) for p in self.entry.prices)
        starts = tuple(timestamp(p.start) if p.start else -_FOREVER for p in periods)
        object.__setattr__(self, "_periods", periods)
        object.__setattr__(self, "_starts", starts)
        object.__setattr__(self, "_current", (None, 0.0, -1.0))

    # -- descriptive attributes --------------------------------------------------

    @property
    def name(self) -> str:
        """A display name (the id when the data has none)."""
        return self.entry.name or self.entry.id

    @property
    def aliases(self) -> tuple[str, ...]:
        """Other names the data lists for this model (dated snapshots, ...)."""
        return tuple(self.entry.aliases)

    @property
    def source(self) -> str:
        """Where the prices were taken from (a URL or a community data set)."""
        return self.entry.source

    @property
    def checked(self) -> date:
        """The date the prices were last checked against their source."""
        return self.entry.checked

    @property
    def note(self) -> str | None:
        """Free-text remarks of the data (e.g. where a provider page overrode community data)."""
        return self.entry.note

    @property
    def deprecated(self) -> bool:
        """Whether the provider has retired or deprecated the model."""
        return self.entry.deprecated

    @property
    def unpriced(self) -> str | None:
        """Why there is no price (``None`` for a priced model)."""
        return self.entry.unpriced

    @property
    def priced(self) -> bool:
        """Whether the model has a published price."""
        return self.entry.unpriced is None

    # -- today's standard prices ---------------------------------------------------

    def rates(
        self,
        at: datetime | None = None,
        *,
        service_tier: str | None = None,
        batch: bool = False,
        input_tokens: int = 0,
    ) -> CompiledRates | None:
        """The effective prices for a call at ``at`` (``None``: unpriced)."""
        if not self._periods:
            return None
        period = self._period_at(at)
        sheet = period.sheet(normalize_tier(service_tier), batch, at, self.model)
        return sheet.rates_for(input_tokens)

    def _rate(self, name: str) -> Decimal | None:
        rates = self.rates()
        return None if rates is None else getattr(rates, name)

    @property
    def input_per_1m(self) -> Decimal | None:
        """Dollars per 1M uncached prompt tokens."""
        return self._rate("input")

    @property
    def output_per_1m(self) -> Decimal | None:
        """Dollars per 1M output tokens (reasoning included)."""
        return self._rate("output")

    @property
    def cached_input_per_1m(self) -> Decimal | None:
        """Dollars per 1M prompt tokens read from the cache."""
        return self._rate("cached_input")

    @property
    def cache_write_per_1m(self) -> Decimal | None:
        """Dollars per 1M prompt tokens written to the cache (5-minute TTL)."""
        return self._rate("cache_write")

    @property
    def cache_write_1h_per_1m(self) -> Decimal | None:
        """Dollars per 1M prompt tokens written to the 1-hour cache."""
        return self._rate("cache_write_1h")

    @property
    def input_per_1k(self) -> float:
        """Dollars per 1000 prompt tokens, as a float (tokenbudget 0.1 API)."""
        return float(self._require("input") / 1000)

    @property
    def output_per_1k(self) -> float:
        """Dollars per 1000 output tokens, as a float (tokenbudget 0.1 API)."""
        return float(self._require("output") / 1000)

    def _require(self, name: str) -> Decimal:
        value = self._rate(name)
        if value is None:
            raise UnpricedModelError(self.model, self.provider, self.entry.unpriced or "")
        return value

    # -- pricing ----------------------------------------------------------------

    def cost(
        self,
        usage: Usage,
        *,
        service_tier: str | None = None,
        batch: bool = False,
        at: datetime | None = None,
    ) -> Decimal | None:
        """Dollars for ``usage`` (``None`` when the model has no published price)."""
        periods = self._periods
        if not periods:
            return None
        period = periods[0] if len(periods) == 1 else self._period_at(at)
        if (service_tier is None or service_tier in STANDARD_TIERS) and not (
            batch or period.windows
        ):
            sheet = period.standard
        else:
            sheet = period.sheet(normalize_tier(service_tier), batch, at, self.model)
        rates = sheet.base if not sheet.tiers else sheet.rates_for(usage.input_tokens)
        return rates.cost(usage)

    def pricer(
        self, service_tier: str | None = None, batch: bool = False
    ) -> Callable[[Usage], Decimal] | None:
        """The cost function of calls at this tier and batch, when it holds at any date.

        ``pricer(tier, batch)(usage)`` equals ``cost(usage, service_tier=tier,
        batch=batch, at=...)`` for every ``at``. ``None`` when the price depends on
        the date (several price periods, time-of-day windows) or is unpublished:
        those calls go through :meth:`cost`.
        """
        periods = self._periods
        if len(periods) != 1 or periods[0].windows:
            return None
        period = periods[0]
        if (service_tier is None or service_tier in STANDARD_TIERS) and not batch:
            return period.standard.pricer()
        return period.sheet(normalize_tier(service_tier), batch, None, self.model).pricer()

    def _period_at(self, at: datetime | None) -> CompiledPeriod:
        if at is not None:
            moment = timestamp(at)
            return self._periods[max(bisect.bisect_right(self._starts, moment) - 1, 0)]
        now = time.time()
        current, since, until = self._current
        if current is not None and since <= now < until:
            return current
        index = max(bisect.bisect_right(self._starts, now) - 1, 0)
        nxt = self._starts[index + 1] if index + 1 < len(self._starts) else _FOREVER
        period = self._periods[index]
        object.__setattr__(self, "_current", (period, self._starts[index], nxt))
        return period

    # -- display ------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly full price sheet: every period with its variants."""
        return {
            "model": self.model,
            "provider": self.provider,
            "name": self.name,
            "aliases": list(self.aliases),
            "source": self.source,
            "checked": self.checked.isoformat(),
            "note": self.note,
            "deprecated": self.deprecated,
            "origin": self.origin,
            "unpriced": self.unpriced,
            "batch_multiplier": None
            if self.batch_multiplier is None
            else str(self.batch_multiplier),
            "prices": [
                p.source.model_dump(mode="json", by_alias=True, exclude_defaults=True)
                for p in self._periods
            ],
        }
