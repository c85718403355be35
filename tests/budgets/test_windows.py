"""Calendar windows (``per=``) with an injected clock: no sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tokenbudget import TokenLimitReached, budget
from tokenbudget.budgets import Window
from tokenbudget.testing import FakeLLM

from ..support import Clock
from .gates import ThreadGate, gated_openai
from .helpers import OPENAI_INPUT, REPLY, chat, openai_client, tracker

UTC = timezone.utc


def test_a_day_window_rolls_over_at_midnight_utc() -> None:
    clock = Clock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    fake = FakeLLM(reply=REPLY)
    tracked = tracker()
    daily = tracked.add_budget(budget(max_tokens=26, per="day", clock=clock, name="daily"))
    client = openai_client(tracked, fake)

    chat(client)
    chat(client)  # 26 tokens: spent for today
    clock.now = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    with pytest.raises(TokenLimitReached) as refused:
        chat(client)
    assert "this day (resets at 2026-03-02 00:00 UTC)" in str(refused.value)
    assert daily.exceeded and daily.resets_at == datetime(2026, 3, 2, tzinfo=UTC)

    clock.now = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert not daily.exceeded and daily.remaining_tokens == 26
    chat(client)
    assert daily.current_usage.calls == 1
    assert fake.calls == 3


def test_a_call_settles_in_the_window_it_was_admitted_in() -> None:
    clock = Clock(datetime(2026, 3, 1, 23, 59, tzinfo=UTC))
    gate = ThreadGate(FakeLLM(reply=REPLY))
    tracked = tracker()
    daily = tracked.add_budget(
        budget(max_tokens=1000, per="day", clock=clock, preflight="worst_case")
    )
    client = gated_openai(tracked, gate)
    gate.opened.set()
    chat(client, max_tokens=10)
    clock.now += timedelta(minutes=2)
    assert daily.current_usage.calls == 0  # a new day
    clock.now -= timedelta(minutes=2)
    assert daily.current_usage.total_tokens == OPENAI_INPUT + 5


def test_window_keys_and_boundaries() -> None:
    moment = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    hour = Window("hour", clock=lambda: moment)
    day = Window("day", clock=lambda: moment)
    month = Window("month", clock=lambda: moment)
    assert (hour.key(), day.key(), month.key()) == ("2026-12-31T22+0000", "2026-12-31", "2026-12")
    assert hour.resets_at() == datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert day.resets_at() == datetime(2027, 1, 1, tzinfo=UTC)
    assert month.resets_at() == datetime(2027, 1, 1, tzinfo=UTC)
    assert Window().key() == "" and Window().resets_at() is None


def test_a_window_in_another_time_zone() -> None:
    paris = ZoneInfo("Europe/Paris")
    moment = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)  # 00:30 on July 1st in Paris
    day = Window("day", tz=paris, clock=lambda: moment)
    month = Window("month", tz=paris, clock=lambda: moment)
    assert (day.key(), month.key()) == ("2026-07-01", "2026-07")
    assert day.resets_at() == datetime(2026, 7, 1, 22, tzinfo=UTC)
    naive = Window("day", clock=lambda: datetime(2026, 1, 1, 12))  # naive: read as UTC
    assert naive.key() == "2026-01-01"


def test_hours_repeated_by_daylight_saving_are_separate_windows() -> None:
    paris = ZoneInfo("Europe/Paris")
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    hour = Window("hour", tz=paris)
    assert hour.key(first) != hour.key(second)
