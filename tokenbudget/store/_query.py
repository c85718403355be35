"""What a usage query asks for: a time range, a provider, a model, tags; and how to group.

Every time in tokenbudget's history is UTC. A naive ``datetime`` given to a query
is taken as UTC (not local time), a ``date`` as the start of that UTC day, so
``usage_between(date(2026, 1, 1), date(2026, 1, 2))`` is exactly one UTC day.
Ranges are half-open: ``start <= timestamp < end``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from types import MappingProxyType

from .._data import CallRecord

__all__ = [
    "EPOCH",
    "GROUPINGS",
    "Query",
    "TimeLike",
    "check_grouping",
    "from_micros",
    "to_micros",
    "to_utc",
    "utc_day",
]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)

#: The ways to group usage: ``"tag:NAME"`` groups by the values of one tag.
GROUPINGS = ("provider", "model", "day", "tag")

#: A moment as users give it.
TimeLike = datetime | date


def to_utc(moment: TimeLike) -> datetime:
    """``moment`` as an aware UTC datetime (naive means UTC; a date means its midnight)."""
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=timezone.utc)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def to_micros(moment: TimeLike) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding)."""
    return (to_utc(moment) - EPOCH) // _MICRO


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime ``micros`` microseconds after the epoch."""
    return EPOCH + timedelta(microseconds=micros)


def utc_day(moment: datetime) -> str:
    """The UTC calendar day of ``moment`` as ``YYYY-MM-DD``."""
    return to_utc(moment).date().isoformat()


def check_grouping(by: str) -> str:
    """``by`` when it names a grouping (``provider``, ``model``, ``day``, ``tag``, ``tag:NAME``)."""
    if by in GROUPINGS or (by.startswith("tag:") and len(by) > 4):
        return by
    raise ValueError(f"cannot group by {by!r}: use one of provider, model, day, tag or tag:NAME")


@dataclass(frozen=True)
class Query:
    """Which calls to count: ``start <= timestamp < end``, and exact matches on the rest.

    ``tags`` must all match (``{"feature": "search"}`` keeps the calls tagged
    ``feature=search``). ``None`` means no condition.
    """

    start: datetime | None = None
    end: datetime | None = None
    provider: str | None = None
    model: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.start is not None:
            object.__setattr__(self, "start", to_utc(self.start))
        if self.end is not None:
            object.__setattr__(self, "end", to_utc(self.end))
        object.__setattr__(
            self, "tags", MappingProxyType({str(k): str(v) for k, v in self.tags.items()})
        )

    @classmethod
    def build(
        cls,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        provider: str | None = None,
        model: str | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> Query:
        """A query from user-facing arguments (dates and naive times allowed)."""
        return cls(
            start=to_utc(start) if start is not None else None,
            end=to_utc(end) if end is not None else None,
            provider=provider,
            model=model,
            tags=MappingProxyType({str(k): str(v) for k, v in (tags or {}).items()}),
        )

    @property
    def unfiltered(self) -> bool:
        """True when the query keeps every call."""
        return (
            self.start is None
            and self.end is None
            and self.provider is None
            and self.model is None
            and not self.tags
        )

    def matches(self, record: CallRecord) -> bool:
        """Whether ``record`` is kept (for records held in memory)."""
        moment = to_utc(record.timestamp)
        if self.start is not None and moment < self.start:
            return False
        if self.end is not None and moment >= self.end:
            return False
        if self.provider is not None and record.provider != self.provider:
            return False
        if self.model is not None and record.model != self.model:
            return False
        return all(record.tags.get(name) == value for name, value in self.tags.items())
