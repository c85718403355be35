"""Instructions per call, tracked vs untracked, counted by valgrind (deterministic).

    python benchmarks/bench_instructions.py [--calls 200] [--cases json,stream] [--no-cache-sim]

Runs the same calls as ``bench_transport.py`` (the real openai SDK over an
httpx2 mock transport) under ``valgrind --tool=cachegrind`` in child processes,
once with ``calls`` and once with ``2 * calls`` calls per side, and prints the
difference divided by ``calls``: start-up and imports cancel out, what is left
is what one call costs. Counts are stable from run to run on one machine
(``PYTHONHASHSEED=0``), whatever else the machine is doing.

Before the measured calls each child collects and freezes the garbage
collector's heap (``TOKENBUDGET_BENCH_FREEZE=0`` turns that off): otherwise a
full collection, whose cost grows with every object start-up left alive (the
price data), lands in one run's window or not, and swings the tracked count by
several percent from one ``--calls`` to the next.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def run_child(side: str, case: str, calls: int) -> None:
    from bench_transport import MESSAGES, clients

    plain, tracked, _ = clients(1000 if case == "stream" else 1)
    client = tracked if side == "tracked" else plain
    if case == "json":

        def call() -> object:
            return client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    else:

        def call() -> object:
            stream = client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            )
            return sum(1 for _ in stream)

    for _ in range(20):  # warm every cache and lazy import
        call()
    if FREEZE:
        # Start both sides from the same collector state: what start-up built is
        # frozen, so a full collection's cost (proportional to every object alive)
        # cannot fall inside one run's window and not the other's. What a call
        # keeps alive (the tracker's recent records) is still collected, and counted.
        gc.collect()
        gc.freeze()
    for _ in range(calls):
        call()


CACHE_SIM = "yes"
FREEZE = os.environ.get("TOKENBUDGET_BENCH_FREEZE", "1") == "1"


def count(side: str, case: str, calls: int) -> dict[str, int]:
    out = tempfile.mktemp(suffix=".cg")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    cmd = [
        "valgrind",
        "--tool=cachegrind",
        f"--cache-sim={CACHE_SIM}",
        f"--cachegrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        side,
        case,
        str(calls),
    ]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    text = Path(out).read_text()
    os.unlink(out)
    events = re.search(r"^events: (.*)$", text, re.M).group(1).split()
    totals = re.search(r"^summary: (.*)$", text, re.M).group(1).split()
    return dict(zip(events, map(int, totals), strict=True))


def per_call(side: str, case: str, calls: int) -> dict[str, float]:
    one, two = count(side, case, calls), count(side, case, 2 * calls)
    return {name: (two[name] - one[name]) / calls for name in one}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--stream-calls", type=int, default=10)
    parser.add_argument("--cases", default="json,stream", help="comma-separated: json, stream")
    parser.add_argument(
        "--no-cache-sim", action="store_true", help="count instructions only (faster)"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        side, case, calls = args.child
        run_child(side, case, int(calls))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install -y valgrind)")
    global CACHE_SIM
    if args.no_cache_sim:
        CACHE_SIM = "no"
    cases = set(args.cases.split(","))
    print(f"{'case':<12}{'what':<10}{'untracked':>14}{'tracked':>14}{'extra':>12}{'ratio':>8}")
    for case, calls in (("json", args.calls), ("stream", args.stream_calls)):
        if case not in cases:
            continue
        plain = per_call("plain", case, calls)
        tracked = per_call("tracked", case, calls)
        for name, label in (("Ir", "instr"), ("I1mr", "I1 miss"), ("D1mr", "D1 miss")):
            if name not in plain:
                continue
            a, b = plain[name], tracked[name]
            ratio = b / a if a else float("nan")
            print(f"{case:<12}{label:<10}{a:>14,.0f}{b:>14,.0f}{b - a:>12,.0f}{ratio:>8.3f}")


if __name__ == "__main__":
    main()
