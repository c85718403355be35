"""Reports and history: a usage store, tables, CSV/JSON exports and an HTML page, offline.

The calls are answered by ``tokenbudget.testing.FakeLLM`` (no network, no API
key). To give the charts something to show, the store is first filled with two
weeks of simulated history: copies of real demo calls, moved back in time.

    pip install -e ".[all]"
    python examples/reports.py [OUT_DIR]          # default: ./report-out
    tokenbudget report report-out/usage.db --by day
"""

from __future__ import annotations

import dataclasses
import random
import sys
from datetime import timedelta
from pathlib import Path

from tokenbudget import TokenTracker
from tokenbudget.reports import export_html, generate_table_report
from tokenbudget.store import SQLiteStore
from tokenbudget.testing import run_demo

DAYS = 14


def simulate_history(path: Path) -> None:
    """Record the demo once, then store shifted copies of its calls for the past days."""
    with TokenTracker(store=path) as seed:
        run_demo(seed)
        calls = list(seed.history())
    rng = random.Random(7)
    past = []
    for days_ago in range(1, DAYS):
        # a few calls a day, more as the days get closer to today
        volume = rng.randint(2, 6) + (DAYS - days_ago) // 3
        for call in rng.choices(calls, k=volume * len(calls) // 3):
            moment = call.timestamp - timedelta(days=days_ago, minutes=rng.randint(0, 600))
            past.append(dataclasses.replace(call, timestamp=moment))
    with SQLiteStore(path) as store:
        store.append(past)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    database = out / "usage.db"
    for stale in out.glob("usage.db*"):
        stale.unlink()
    simulate_history(database)

    # A tracker opened on an existing store sees its past usage ...
    with TokenTracker(store=database) as tracker:
        print("history:", tracker.usage)
        run_demo(tracker)  # ... and adds today's calls as they happen.
        print("now:    ", tracker.usage)
        print("last 7 days:", tracker.usage_since(timedelta(days=7)))
        print()
        print(generate_table_report(tracker, by="model"))
        print(generate_table_report(tracker, by="tag:feature"))
        print(generate_table_report(tracker, by="day", since=timedelta(days=7)))

        calls = tracker.export_csv(out / "usage.csv")
        tracker.export_json(out / "usage.json")
        export_html(tracker, out / "report.html", by="model")
    print(f"wrote {calls} calls to {out / 'usage.csv'} and {out / 'usage.json'}")
    print(f"wrote {out / 'report.html'}; render it: scripts/render_report.sh {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("report-out"))
