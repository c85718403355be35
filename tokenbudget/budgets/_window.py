"""Calendar windows of a budget (``per="hour"``, ``"day"``, ``"month"``) and its clock.

A windowed budget's limit applies to each calendar period on its own: at the
boundary (in the budget's time zone, UTC by default) a fresh window starts
from zero. The clock is injectable (a callable returning an aware datetime) so
that tests and simulations never sleep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Literal

__all__ = ["PERIODS", "Clock", "Period", "Window", "utc_now"]

#: A callable giving the current time as an aware datetime (naive ones are read as UTC).
Clock = Callable[[], datetime]
Period = Literal["hour", "day", "month"]
PERIODS: tuple[str, ...] = ("hour", "day", "month")


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Window:
    """Names the window a moment falls in, and when that window ends."""

    per: Period | None = None
    tz: tzinfo = timezone.utc
    clock: Clock = field(default=utc_now)

    def __post_init__(self) -> None:
        if self.per is not None and self.per not in PERIODS:
            raise ValueError(f"per must be one of {', '.join(PERIODS)} or None, not {self.per!r}")

    def now(self) -> datetime:
        """The clock's time, in the window's time zone."""
        moment = self.clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(self.tz)

    def key(self, moment: datetime | None = None) -> str:
        """The window ``moment`` (default: now) falls in; ``""`` for a budget without windows."""
        if self.per is None:
            return ""
        local = self.now() if moment is None else moment.astimezone(self.tz)
        if self.per == "hour":  # with the UTC offset: a repeated hour (DST) is its own window
            return local.strftime("%Y-%m-%dT%H%z")
        if self.per == "day":
            return local.strftime("%Y-%m-%d")
        return local.strftime("%Y-%m")

    def resets_at(self, moment: datetime | None = None) -> datetime | None:
        """When the window of ``moment`` (default: now) ends, in UTC; ``None`` without windows."""
        if self.per is None:
            return None
        local = self.now() if moment is None else moment.astimezone(self.tz)
        if self.per == "hour":
            start = local.replace(minute=0, second=0, microsecond=0)
            return start.astimezone(timezone.utc) + timedelta(hours=1)
        if self.per == "day":
            return self._midnight(local.date() + timedelta(days=1))
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        return self._midnight(date(year, month, 1))

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz).astimezone(timezone.utc)
