"""Time to first chunk of a stream, tracked vs untracked, side by side in one run.

    python benchmarks/bench_ttfc.py [--rounds 41] [--repeat 20] [--lean]

Each round times, for the same openai SDK stream over the same httpx2 mock
transport as ``bench_transport.py``, the time from the ``create`` call to the
first chunk the application gets, alternating which side goes first; the table
shows each side's median, and the median and interquartile range of the
per-round ratios (tracked / untracked). The tracked side's request is rewritten
(``stream_options.include_usage``) on the way out, which is the point.

Two cases, which differ in what happens after the timed first chunk:

- **read on**: the application reads the stream to its end, as one that shows an
  answer does (untimed). This is the time to first chunk of a usual call.
- **closed**: the application closes the stream after its first chunk. The
  tracked side then records an abandoned call, counting its prompt and output
  locally (tiktoken) when the stream closes: untimed too, but that work runs
  between two timed calls and leaves its traces in the machine's caches, so this
  case also measures what abandoning a stream costs the calls after it.

``--lean`` times ``lean_tracker.py``'s floor transport in place of tokenbudget.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import openai
from bench_transport import MESSAGES, clients, lean_client


def first_chunk(client: openai.OpenAI, read_on: bool) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        chunks = iter(stream)
        next(chunks)
        elapsed = time.perf_counter() - start
        if read_on:
            for _ in chunks:
                pass
        stream.close()
        return elapsed

    return run


def compare(
    a_side: Callable[[], float], b_side: Callable[[], float], rounds: int, repeat: int
) -> tuple[float, float, float, float, float]:
    """Medians of each side's time, median ratio b/a and its quartiles."""
    for _ in range(repeat):  # warm both paths
        a_side(), b_side()
    a_times, b_times, ratios = [], [], []
    for index in range(rounds):
        order = (b_side, a_side) if index % 2 else (a_side, b_side)
        sums = {side: sum(side() for _ in range(repeat)) for side in order}
        a, b = sums[a_side] / repeat, sums[b_side] / repeat
        a_times.append(a)
        b_times.append(b)
        ratios.append(b / a)
    low, _, high = statistics.quantiles(ratios, n=4)
    return (
        statistics.median(a_times),
        statistics.median(b_times),
        statistics.median(ratios),
        low,
        high,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--lean", action="store_true", help="time lean_tracker.py's floor instead of tokenbudget"
    )
    args = parser.parse_args()
    plain, tracked, _ = clients(1)  # a short stream: the handler's own work stays small
    if args.lean:
        tracked = lean_client()
    print(f"{'time to first chunk':<24}{'untracked':>14}{'tracked':>14}{'ratio':>9}{'IQR':>16}")
    for case, read_on in (("stream read on", True), ("stream closed", False)):
        a, b, ratio, low, high = compare(
            first_chunk(plain, read_on), first_chunk(tracked, read_on), args.rounds, args.repeat
        )
        print(
            f"{case:<24}{a * 1e6:>11.1f} µs{b * 1e6:>11.1f} µs{ratio:>9.3f}"
            f"{f'{low:.3f}-{high:.3f}':>16}"
        )


if __name__ == "__main__":
    main()
