"""One price period of a model, compiled: a sheet per variant, and the choice among them.

A period of a model's price history (see ``_schema.Period``) names a standard
sheet and, optionally, a batch sheet, service-tier sheets (``flex``,
``priority``) and peak-hour windows. :class:`CompiledPeriod` compiles each of
them once (``_rates.py``) and picks the one a call is billed at. A variant the
data does not have is billed at the standard price, which is logged once per
model and variant at DEBUG level.

One rule for every provider, shared by tracking and ``calculate_cost``:

- ``batch=True`` and ``service_tier="batch"`` (Anthropic's ``usage.service_tier``
  of a Message Batches result) are the same thing: the batch sheet, whatever
  other tier is named beside ``batch=True``.
- Tier names are matched case-insensitively, with the providers' spellings
  folded together: ``"SERVICE_TIER_FLEX"`` (Gemini) and ``"ON_DEMAND_FLEX"``
  (Vertex ``trafficType``) mean ``"flex"``; the names in :data:`STANDARD_TIERS`
  (``default``, ``auto``, ``on_demand``, ``unspecified``...) mean the standard price.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from decimal import Decimal

from ._rates import CompiledSheet, base_fields, compile_sheet, merge_sheet
from ._schema import Period

__all__ = ["STANDARD_TIERS", "CompiledPeriod", "normalize_tier", "timestamp"]

logger = logging.getLogger("tokenbudget.pricing")

_UTC = timezone.utc

#: Service-tier names that mean "the standard price".
STANDARD_TIERS = frozenset(
    {
        "",
        "default",
        "standard",
        "standard_only",
        "auto",
        "on_demand",
        "on-demand",
        "scale",
        "unspecified",
    }
)
#: Provider prefixes of tier names: ``SERVICE_TIER_FLEX`` (Gemini), ``ON_DEMAND_FLEX`` (Vertex).
_TIER_PREFIXES = ("service_tier_", "on_demand_")
_logged_tiers: set[tuple[str, str]] = set()


def normalize_tier(service_tier: str | None) -> str | None:
    """Lower-case a reported service tier; ``None`` for every name of the standard tier.

    Provider prefixes are dropped (``"ON_DEMAND_FLEX"`` is ``"flex"``), so a
    tier reads the same whichever way its API spells it.
    """
    if service_tier is None:
        return None
    tier = service_tier.strip().lower()
    for prefix in _TIER_PREFIXES:
        if tier.startswith(prefix):
            tier = tier[len(prefix) :]
            break
    return None if tier in STANDARD_TIERS else tier


def _as_utc(at: datetime | date) -> datetime:
    """Aware datetimes converted to UTC; naive ones (and dates) are taken to be UTC."""
    if not isinstance(at, datetime):
        return datetime(at.year, at.month, at.day, tzinfo=_UTC)
    return at.replace(tzinfo=_UTC) if at.tzinfo is None else at.astimezone(_UTC)


def timestamp(moment: datetime | date) -> float:
    """POSIX seconds of ``moment``; naive datetimes (and dates) are taken to be UTC."""
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment.timestamp()
    return _as_utc(moment).timestamp()


class CompiledPeriod:
    """One price period compiled: the sheet for every variant the data names."""

    __slots__ = ("batch", "service_tiers", "source", "standard", "start", "windows")

    def __init__(self, period: Period, batch_multiplier: Decimal | None) -> None:
        self.source = period
        self.start = period.from_
        base = base_fields(period)
        self.standard = compile_sheet(base)
        if period.batch is not None:
            self.batch: CompiledSheet | None = compile_sheet(merge_sheet(base, period.batch))
        elif batch_multiplier is not None:
            self.batch = compile_sheet(base, scale=batch_multiplier)
        else:
            self.batch = None
        self.service_tiers = {
            name: compile_sheet(merge_sheet(base, sheet))
            for name, sheet in period.service_tiers.items()
        }
        self.windows = tuple(
            (*window.minutes(), compile_sheet(merge_sheet(base, window)))
            for window in period.windows
        )

    def sheet(
        self, tier: str | None, batch: bool, at: datetime | None, model: str
    ) -> CompiledSheet:
        """The sheet a call of ``model`` is billed at (``tier``: from :func:`normalize_tier`)."""
        if batch or tier == "batch":
            if self.batch is not None:
                return self.batch
            _log_tier_once(model, "batch")
        elif tier is not None:
            found = self.service_tiers.get(tier)
            if found is not None:
                return found
            _log_tier_once(model, tier)
        if self.windows:
            return self._window_sheet(at)
        return self.standard

    def _window_sheet(self, at: datetime | None) -> CompiledSheet:
        moment = datetime.now(_UTC) if at is None else _as_utc(at)
        minute = moment.hour * 60 + moment.minute
        for start, end, sheet in self.windows:
            inside = start <= minute < end if start < end else (minute >= start or minute < end)
            if inside:
                return sheet
        return self.standard


def _log_tier_once(model: str, tier: str) -> None:
    key = (model, tier)
    if key not in _logged_tiers:
        _logged_tiers.add(key)
        logger.debug("no %r price for %s: priced at the standard rate", tier, model)
