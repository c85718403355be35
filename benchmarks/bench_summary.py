"""Summary reads, small vs large tracker, side by side; and what recording a call costs.

    python benchmarks/bench_summary.py [--rounds 41] [--instructions]

Two trackers are filled through ``tracker.add_record``: one with a single model,
one with 1,000 models x 10 values of one tag (10,000 combinations). Each round
times the same short batch of reads on both, alternating which goes first; the
table shows the median time per read of each, the median of the per-round
ratios (large / small) and that ratio's interquartile range. A read that does
not fold per-key totals keeps the ratio near 1 for ``usage``; ``usage_by_model``
and ``usage_by_provider`` return one entry per key, so they grow with the keys
they return, not with the combinations behind them.

``--instructions`` also counts, under ``valgrind --tool=cachegrind`` in child
processes, the instructions of one ``add_record`` (the ledger's work on every
tracked call) and of one ``add_record`` followed by a ``usage`` read: each
child runs ``n`` and ``2n`` records and the difference is divided by ``n``, so
start-up and imports cancel out. Counts are stable whatever else the machine
is doing (``PYTHONHASHSEED=0``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from sidebyside import compare

from tokenbudget import CallRecord, TokenTracker, Usage

MODELS = 1_000
TAG_VALUES = 10
WHEN = datetime(2026, 12, 5, 12, tzinfo=timezone.utc)


def make_record(
    model: str, provider: str = "openai", tags: dict[str, str] | None = None
) -> CallRecord:
    return CallRecord(
        timestamp=WHEN,
        provider=provider,
        model=model,
        endpoint="chat",
        usage=Usage(input_tokens=100, output_tokens=20, cached_input_tokens=10),
        cost_usd=Decimal("0.00045"),
        status_code=200,
        tags=tags or {},
    )


def small_tracker() -> TokenTracker:
    tracker = TokenTracker()
    for _ in range(TAG_VALUES):
        tracker.add_record(make_record("gpt-4o", tags={"team": "a"}))
    return tracker


def large_tracker() -> TokenTracker:
    tracker = TokenTracker()
    for number in range(MODELS):
        provider = ("openai", "anthropic", "google", "mistral")[number % 4]
        for value in range(TAG_VALUES):
            tracker.add_record(make_record(f"model-{number}", provider, {"team": f"t{value}"}))
    return tracker


def run_child(case: str, records: int) -> None:
    tracker = large_tracker() if case.endswith("large") else small_tracker()
    tagged = make_record("model-7", "openai", {"team": "t3"})
    read = case.startswith("read")
    for _ in range(20):  # warm every cache and lazy import
        tracker.add_record(tagged)
        if read:
            tracker.usage  # noqa: B018 (the read is the point)
    for _ in range(records):
        tracker.add_record(tagged)
        if read:
            tracker.usage  # noqa: B018


def count(case: str, records: int) -> int:
    out = tempfile.mktemp(suffix=".cg")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    cmd = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        f"--cachegrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        case,
        str(records),
    ]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    text = Path(out).read_text()
    os.unlink(out)
    events = re.search(r"^events: (.*)$", text, re.M).group(1).split()  # type: ignore[union-attr]
    totals = re.search(r"^summary: (.*)$", text, re.M).group(1).split()  # type: ignore[union-attr]
    return dict(zip(events, map(int, totals), strict=True))["Ir"]


def instructions(records: int) -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install -y valgrind)")
    print(f"\n{'instructions per recorded call':<40}{'1 model':>14}{'1,000 x 10':>14}")
    # Fewer rounds with a read: summing 10,000 cells per read under valgrind is slow.
    for case, label, n in (
        ("record", "add_record", records),
        ("read", "add_record, then usage", max(records // 10, 20)),
    ):
        row = []
        for size in ("small", "large"):
            one, two = count(f"{case}-{size}", n), count(f"{case}-{size}", 2 * n)
            row.append((two - one) / n)
        print(f"{label:<40}{row[0]:>14,.0f}{row[1]:>14,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child[0], int(args.child[1]))
        return

    small, large = small_tracker(), large_tracker()
    assert large.usage.calls == MODELS * TAG_VALUES and len(large.usage_by_model) == MODELS
    rows = [
        compare("usage", lambda: small.usage, lambda: large.usage, 200, args.rounds),
        compare(
            "usage_by_model",
            lambda: small.usage_by_model,
            lambda: large.usage_by_model,
            5,
            args.rounds,
        ),
        compare(
            "usage_by_provider",
            lambda: small.usage_by_provider,
            lambda: large.usage_by_provider,
            50,
            args.rounds,
        ),
        compare(
            "usage_by_tag('team')",
            lambda: small.usage_by_tag("team"),
            lambda: large.usage_by_tag("team"),
            50,
            args.rounds,
        ),
    ]
    fresh_small = make_record("gpt-4o", tags={"team": "a"})
    fresh_large = make_record("model-7", "openai", {"team": "t3"})

    def record_then_read(tracker: TokenTracker, fresh: CallRecord) -> Callable[[], object]:
        def run() -> object:
            tracker.add_record(fresh)
            return tracker.usage

        return run

    rows.append(
        compare(
            "add_record, then usage",
            record_then_read(small, fresh_small),
            record_then_read(large, fresh_large),
            20,
            args.rounds,
        )
    )
    print(f"{'read':<24}{'1 model':>14}{'1,000 x 10':>14}{'ratio':>10}{'IQR':>18}")
    for name, a, b, ratio, low, high in rows:
        print(
            f"{name:<24}{a * 1e6:>11.1f} µs{b * 1e6:>11.1f} µs{ratio:>10.2f}"
            f"{f'{low:.2f}-{high:.2f}':>18}"
        )
    load = os.getloadavg()[0]
    print(f"\nmedians of {args.rounds} rounds; load average {load:.2f}")
    if args.instructions:
        instructions(args.records)


if __name__ == "__main__":
    main()
