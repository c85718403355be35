"""Side-by-side timing shared by the benchmarks: interleaved rounds, median ratio and IQR.

Each round times a short batch of calls of both sides, alternating which goes
first; a shared machine's pause then spoils one round's ratio, which the median
ignores. Imported by the scripts of this folder (``python benchmarks/bench_x.py``
puts the folder on ``sys.path``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["Row", "compare", "time_calls"]

#: (name, median seconds of side a, of side b, median ratio b/a, its first and third quartiles)
Row = tuple[str, float, float, float, float, float]


def time_calls(call: Callable[[], object], repeat: int) -> float:
    """Mean seconds per call of ``repeat`` calls."""
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat


def compare(
    name: str, a_side: Callable[[], object], b_side: Callable[[], object], repeat: int, rounds: int
) -> Row:
    """Time both sides over ``rounds`` interleaved rounds of ``repeat`` calls each."""
    for _ in range(repeat):  # warm up both
        a_side(), b_side()
    a_times, b_times, ratios = [], [], []
    for index in range(rounds):
        if index % 2:
            b = time_calls(b_side, repeat)
            a = time_calls(a_side, repeat)
        else:
            a = time_calls(a_side, repeat)
            b = time_calls(b_side, repeat)
        a_times.append(a)
        b_times.append(b)
        ratios.append(b / a)
    low, _, high = statistics.quantiles(ratios, n=4)
    return (
        name,
        statistics.median(a_times),
        statistics.median(b_times),
        statistics.median(ratios),
        low,
        high,
    )
