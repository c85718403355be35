"""Time to first chunk of a stream, tracked vs untracked, side by side in one run.

    python benchmarks/bench_ttfc.py [--rounds 41] [--repeat 20]

Each round times, for the same openai SDK stream over the same httpx2 mock
transport as ``bench_transport.py``, the time from the ``create`` call to the
first chunk the application gets, alternating which side goes first; the table
shows each side's median, and the median and interquartile range of the
per-round ratios (tracked / untracked). The tracked side's request is rewritten
(``stream_options.include_usage``) on the way out, which is the point.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import openai
from bench_transport import MESSAGES, clients


def first_chunk(client: openai.OpenAI) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        next(iter(stream))
        elapsed = time.perf_counter() - start
        stream.close()
        return elapsed

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    plain, tracked, _ = clients(1)  # a short stream: the handler's own work stays small
    a_side, b_side = first_chunk(plain), first_chunk(tracked)
    for _ in range(args.repeat):  # warm both paths
        a_side(), b_side()
    a_times, b_times, ratios = [], [], []
    for index in range(args.rounds):
        order = (b_side, a_side) if index % 2 else (a_side, b_side)
        sums = {side: sum(side() for _ in range(args.repeat)) for side in order}
        a, b = sums[a_side] / args.repeat, sums[b_side] / args.repeat
        a_times.append(a)
        b_times.append(b)
        ratios.append(b / a)
    low, _, high = statistics.quantiles(ratios, n=4)
    print(f"{'case':<24}{'untracked':>14}{'tracked':>14}{'ratio':>9}{'IQR':>16}")
    print(
        f"{'time to first chunk':<24}{statistics.median(a_times) * 1e6:>11.1f} µs"
        f"{statistics.median(b_times) * 1e6:>11.1f} µs{statistics.median(ratios):>9.3f}"
        f"{f'{low:.3f}-{high:.3f}':>16}"
    )


if __name__ == "__main__":
    main()
