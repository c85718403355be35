"""The ledger's totals per UTC day, whatever the records' clocks and order.

The ledger keeps the latest UTC day it saw with its bounds, so that a record of
that day costs no new date; any other moment (another day, earlier or later, a
naive time, another time zone) is placed by its own UTC date.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from tokenbudget.store import Ledger

from ..support import record

_BASE = datetime(2026, 12, 5, tzinfo=timezone.utc)

moments = st.builds(
    lambda minutes, zone: (
        (_BASE + timedelta(minutes=minutes)).astimezone(zone)
        if zone is not None
        else (_BASE + timedelta(minutes=minutes)).replace(tzinfo=None)
    ),
    st.integers(-3 * 1440, 3 * 1440),
    st.sampled_from(
        [
            timezone.utc,
            timezone.utc,
            timezone(timedelta(hours=-8)),
            timezone(timedelta(hours=5)),
            None,
        ]
    ),
)


def _utc_day(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.date().isoformat()


@settings(max_examples=200, deadline=None)
@given(st.lists(moments, max_size=30))
def test_each_call_counts_on_its_utc_day(times: list[datetime]) -> None:
    ledger = Ledger()
    for moment in times:
        ledger.record(record(at=moment))
    assert {day: summary.calls for day, summary in ledger.by_day().items()} == dict(
        sorted(Counter(_utc_day(moment) for moment in times).items())
    )


def test_the_last_instant_of_a_day_and_the_first_of_the_next() -> None:
    ledger = Ledger()
    midnight = datetime(2026, 12, 6, tzinfo=timezone.utc)
    for moment in (midnight - timedelta(microseconds=1), midnight, midnight - timedelta(hours=1)):
        ledger.record(record(at=moment))
    assert {day: s.calls for day, s in ledger.by_day().items()} == {
        "2026-12-05": 2,
        "2026-12-06": 1,
    }
