"""Instructions per call, tracked vs untracked, counted by valgrind (deterministic).

    python benchmarks/bench_instructions.py [--calls 200] [--cases json,stream] [--no-cache-sim]
        [--layouts 5] [--lean]

Runs the same calls as ``bench_transport.py`` (the real openai SDK over an
httpx2 mock transport) under ``valgrind --tool=cachegrind`` in child processes,
once with ``calls`` and once with ``2 * calls`` calls per side, and prints the
difference divided by ``calls``: start-up and imports cancel out, what is left
is what one call costs. Counts are stable from run to run on one machine
(``PYTHONHASHSEED=0``), whatever else the machine is doing, but not from one
memory layout to another: CPython 3.11's type-attribute cache misses on the
lookups that collide, and which collide depends on what was allocated before,
so a change anywhere (an import, a class) can move a JSON call's count by tens
of thousands of instructions either way. ``--layouts N`` counts each side under
N layouts (``shift_layout``) and prints the median and the range: compare
versions with it. ``--lean`` counts the JSON call on ``lean_tracker.py``'s floor
transport in place of tokenbudget's.

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
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def shift_layout(step: int) -> None:
    """Start the child from another memory layout (``--layouts``).

    CPython 3.11's type-attribute cache has 4,096 slots, chosen by a type's version
    tag and the address of the attribute's name: which lookups collide, and miss
    on every call, depends on what was allocated and looked up before. Classes
    looked up and strings kept here move both, so each step is another layout.
    """
    if not step:
        return
    kept = [str(index) * (index % 7 + 1) for index in range(997 * step)]
    for index in range(37 * step):
        cls = type(f"Layout{index}", (), {"value": index})
        kept.append(cls.value)  # (a lookup: the class takes its version tag)
        kept.append(cls)
    globals()["_LAYOUT_KEPT"] = kept


def run_child(side: str, case: str, calls: int) -> None:
    shift_layout(int(os.environ.get("TOKENBUDGET_BENCH_LAYOUT", "0")))
    from bench_transport import MESSAGES, clients

    plain, tracked, _ = clients(1000 if case == "stream" else 1)
    client = tracked if side == "tracked" else plain
    if side == "lean":  # lean_tracker.py's floor (JSON only)
        from bench_transport import lean_client

        client = lean_client()
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


def count(side: str, case: str, calls: int, layout: int = 0) -> dict[str, int]:
    out = tempfile.mktemp(suffix=".cg")
    env = {**os.environ, "PYTHONHASHSEED": "0", "TOKENBUDGET_BENCH_LAYOUT": str(layout)}
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


def per_call(side: str, case: str, calls: int, layout: int = 0) -> dict[str, float]:
    one, two = count(side, case, calls, layout), count(side, case, 2 * calls, layout)
    return {name: (two[name] - one[name]) / calls for name in one}


def layouts_table(case: str, calls: int, layouts: int, side: str = "tracked") -> None:
    """Instructions per call under ``layouts`` memory layouts (``shift_layout``), side
    by side per layout: the median extra and ratio, and their range."""
    extras, ratios = [], []
    for layout in range(layouts):
        plain = per_call("plain", case, calls, layout)["Ir"]
        tracked = per_call(side, case, calls, layout)["Ir"]
        extras.append(tracked - plain)
        ratios.append(tracked / plain)
        print(
            f"  layout {layout}: untracked {plain:,.0f}  extra {tracked - plain:,.0f}", flush=True
        )
    if side != "tracked":
        case = f"{case} ({side})"
    print(
        f"{case:<12}{'instr':<10}median extra {statistics.median(extras):,.0f}"
        f" ({min(extras):,.0f} to {max(extras):,.0f}), ratio {statistics.median(ratios):.3f}"
        f" ({min(ratios):.3f} to {max(ratios):.3f}) over {layouts} layouts"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--stream-calls", type=int, default=10)
    parser.add_argument("--cases", default="json,stream", help="comma-separated: json, stream")
    parser.add_argument(
        "--no-cache-sim", action="store_true", help="count instructions only (faster)"
    )
    parser.add_argument(
        "--layouts",
        type=int,
        default=1,
        help="count each side under this many memory layouts and print the median and range"
        " (instructions only; see shift_layout)",
    )
    parser.add_argument(
        "--lean",
        action="store_true",
        help="count the JSON call on lean_tracker.py's floor transport instead of tokenbudget",
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
    side = "lean" if args.lean else "tracked"
    if args.lean:
        cases &= {"json"}
    if args.layouts > 1:
        CACHE_SIM = "no"
        for case, calls in (("json", args.calls), ("stream", args.stream_calls)):
            if case in cases:
                layouts_table(case, calls, args.layouts, side)
        return
    print(f"{'case':<12}{'what':<10}{'untracked':>14}{'tracked':>14}{'extra':>12}{'ratio':>8}")
    for case, calls in (("json", args.calls), ("stream", args.stream_calls)):
        if case not in cases:
            continue
        plain = per_call("plain", case, calls)
        tracked = per_call(side, case, calls)
        for name, label in (("Ir", "instr"), ("I1mr", "I1 miss"), ("D1mr", "D1 miss")):
            if name not in plain:
                continue
            a, b = plain[name], tracked[name]
            ratio = b / a if a else float("nan")
            print(f"{case:<12}{label:<10}{a:>14,.0f}{b:>14,.0f}{b - a:>12,.0f}{ratio:>8.3f}")


if __name__ == "__main__":
    main()
