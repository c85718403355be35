"""Response cache: a cache hit vs an untracked call to an instant loopback server.

    python benchmarks/bench_cache.py [--rounds 15] [--stream-chunks 20] [--server-delay-ms 0]
    python benchmarks/bench_cache.py --instructions [--calls 300]

A real HTTP server on 127.0.0.1 answers OpenAI chat completions (JSON, and an SSE
stream of ``--stream-chunks`` events), with keep-alive and each response sent in one
write, so the server path is as fast as loopback allows. The same request is timed
side by side in one run, alternating the order per round, at two levels:

- **sdk**: ``client.chat.completions.create(...)`` through the real openai SDK,
  what a user sees; the SDK's own per-call work (request building, validation,
  parsing into pydantic models) is paid by hits and misses alike.
- **transport**: ``handle_request`` of the transport and reading the body, i.e.
  exactly the part of a call the cache replaces (the network round trip vs key +
  lookup + replay + recording the hit).

Cases: ``untracked`` (a plain client, no tokenbudget), ``tracked`` (a tracked call
that goes to the server), ``memory hit`` and ``disk hit``. Each row prints the
median time per call and, per case, the median [interquartile range] of the
per-round ratios case / untracked: a hit at 0.11 costs 11% of an untracked call.

With the default instant server a hit's ratio has floors no cache can pass: at the
sdk level the SDK's own work is paid by the hit too. The ``floor`` case measures it:
an untracked call whose answer, recorded from the server once, is handed over again
with no network and no cache (:class:`Recorded`). ``--server-delay-ms`` models a
provider's answer time (a real one takes hundreds of milliseconds) to show what a
hit saves in practice.

``--instructions`` counts instructions per call instead (valgrind's cachegrind in a
child process, with ``calls`` and ``2 * calls`` calls: start-up and imports cancel
out), the server running in this process outside valgrind: stable under load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout this file is in, not an installed tokenbudget

from bench_transport import stream_body  # noqa: E402  (this folder is on sys.path)

from tokenbudget import TokenTracker  # noqa: E402

os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT.parent / "shared" / "tiktoken"))

CHAT = (ROOT / "fixtures" / "openai" / "chat.json").read_bytes()
MESSAGES: Any = [{"role": "user", "content": "Hi"}]


class Loopback:
    """An OpenAI-like server on 127.0.0.1: keep-alive, no Nagle, one write per response."""

    def __init__(self, stream_chunks: int, delay: float = 0.0) -> None:
        stream = stream_body(stream_chunks, True)
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                server.requests += 1
                if delay:
                    time.sleep(delay)  # the provider's time to answer, when asked for
                if body.get("stream"):
                    kind, payload = b"text/event-stream", stream
                else:
                    kind, payload = b"application/json", CHAT
                head = b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n"
                self.wfile.write(head % (kind, len(payload)) + payload)
                self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self._httpd.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[Loopback]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join(5)


def time_per_call(call: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """The first quartile, the median and the third quartile of ``values``."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    first, median, third = statistics.quantiles(values, n=4, method="inclusive")
    return first, median, third


#: What a case's timings come to: median seconds per call, and the quartiles of its
#: per-round ratio to the untracked call.
Result = tuple[float, tuple[float, float, float]]


def compare(calls: dict[str, Callable[[], object]], repeat: int, rounds: int) -> dict[str, Result]:
    """Each case's median time per call, and the quartiles of its per-round ratio to untracked."""
    names = list(calls)
    for call in calls.values():
        call()  # warm up (and fill the caches)
    times: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        order = names if index % 2 == 0 else names[::-1]
        this_round = {name: time_per_call(calls[name], repeat) for name in order}
        for name in names:
            times[name].append(this_round[name])
            ratios[name].append(this_round[name] / this_round["untracked"])
    return {name: (statistics.median(times[name]), quartiles(ratios[name])) for name in names}


def trackers(host: str, directory: str) -> dict[str, TokenTracker | None]:
    hosts = {host: "openai"}
    return {
        "untracked": None,
        "tracked": TokenTracker(hosts=hosts),
        "memory hit": TokenTracker(hosts=hosts, cache="memory"),
        "disk hit": TokenTracker(hosts=hosts, cache="disk", cache_dir=directory),
    }


def sdk_call(
    host: str, tracker: TokenTracker | None, stream: bool, inner: Any = None
) -> Callable[[], object]:
    """One chat completion through the openai SDK, tracked by ``tracker`` (``None``: plain,
    over ``inner`` when given)."""
    http = tracker.httpx_client() if tracker is not None else httpx2.Client(transport=inner)
    client = openai.OpenAI(api_key="sk-bench", base_url=f"http://{host}/v1", http_client=http)

    def call() -> object:
        made = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=stream)
        return sum(1 for _ in made) if stream else made

    return call


def transport_call(
    host: str, tracker: TokenTracker | None, stream: bool, inner: Any = None
) -> Callable[[], object]:
    """One request handled by the transport, its body read (``tracker`` ``None``: plain,
    ``inner`` when given)."""
    body = json.dumps({"model": "gpt-4o", "messages": MESSAGES, "stream": stream}).encode()
    headers = {"authorization": "Bearer sk-bench", "content-type": "application/json"}
    # One request object, sent again and again: its building is no part of either path.
    request = httpx2.Request(
        "POST", f"http://{host}/v1/chat/completions", headers=headers, content=body
    )
    plain = inner or httpx2.HTTPTransport()
    transport = tracker.transport(family="httpx2") if tracker is not None else plain

    def call() -> object:
        response = transport.handle_request(request)
        try:
            return sum(len(chunk) for chunk in response.stream)
        finally:
            response.close()

    return call


class Recorded(httpx2.BaseTransport):
    """Hands over the server's first answer again and again, built afresh, no network:
    what a call costs at its level when nothing is tracked and no cache works at all."""

    def __init__(self) -> None:
        self._network = httpx2.HTTPTransport()
        self._answer: tuple[int, list[tuple[bytes, bytes]], list[bytes]] | None = None

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._answer is None:
            response = self._network.handle_request(request)
            chunks = list(response.stream)
            response.close()
            self._answer = (response.status_code, response.headers.raw, chunks)
        status, headers, chunks = self._answer
        return httpx2.Response(status, headers=headers, content=iter(chunks))


def floor_call(level: str, host: str, stream: bool) -> Callable[[], object]:
    """The ``floor`` case: an untracked call whose answer is handed over by :class:`Recorded`."""
    return LEVELS[level][0](host, None, stream, Recorded())


LEVELS = {"sdk": (sdk_call, 40), "transport": (transport_call, 100)}
ROWS = ("sdk,json", "sdk,stream", "transport,json", "transport,stream")


def rows(only: list[str] | None) -> list[tuple[str, bool]]:
    """The (level, stream) rows to measure: every one, or those named by ``--only``."""
    names = only or list(ROWS)
    return [(name.split(",")[0], name.endswith("stream")) for name in ROWS if name in names]


def print_times(rows: list[tuple[str, dict[str, Result]]], cases: list[str]) -> None:
    print(f"{'case':<18}" + "".join(f"{name:>30}" for name in cases))
    for label, result in rows:
        cells = []
        for name in cases:
            seconds, (first, median, third) = result[name]
            cells.append(f"{seconds * 1e6:>7.0f} µs {median:>6.3f} [{first:.3f}-{third:.3f}]")
        print(f"{label:<18}" + "".join(f"{cell:>30}" for cell in cells))


def timing(args: argparse.Namespace) -> None:
    table: list[tuple[str, dict[str, Result]]] = []
    loopback = Loopback(args.stream_chunks, args.server_delay_ms / 1000)
    with loopback.running() as server, tempfile.TemporaryDirectory() as tmp:
        tracked = trackers(server.host, tmp)
        for level, stream in rows(args.only):
            build, repeat = LEVELS[level]
            label = f"{level}, {'stream' if stream else 'JSON'}"
            calls = {name: build(server.host, t, stream) for name, t in tracked.items()}
            calls["floor"] = floor_call(level, server.host, stream)
            table.append((label, compare(calls, repeat, args.rounds)))
        stats = {name: t.cache_stats for name, t in tracked.items() if t is not None}
    print("time per call, and the ratio to an untracked call: median [interquartile range]")
    print_times(table, [*tracked, "floor"])
    delay = f", server delay {args.server_delay_ms:g} ms" if args.server_delay_ms else ""
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(f"\nserver requests: {server.requests}; {args.rounds} rounds{delay}; load average {load}")
    for name in ("memory hit", "disk hit"):
        found = stats[name]
        print(f"{name}: {found.hits} hits, {found.misses} misses, {found.entries} entries")


# -- instruction counts ----------------------------------------------------------------


def run_child(host: str, level: str, case: str, stream: bool, calls: int) -> None:
    """In a child under valgrind: ``calls`` calls of one case, after warming up."""
    tracker = {
        "untracked": None,
        "tracked": TokenTracker(hosts={host: "openai"}),
        "memory hit": TokenTracker(hosts={host: "openai"}, cache="memory"),
    }[case]
    call = LEVELS[level][0](host, tracker, stream)
    for _ in range(20):  # warm every cache and lazy import
        call()
    for _ in range(calls):
        call()


def count(host: str, level: str, case: str, stream: bool, calls: int) -> int:
    """Instructions valgrind counts for a child making ``calls`` calls."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.cg"
        cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}"]
        cmd += [sys.executable, __file__, "--child", host, level, case, str(int(stream))]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run([*cmd, str(calls)], check=True, env=env, capture_output=True)
        found = re.search(r"^summary: (\d+)", out.read_text(), re.M)
        assert found is not None
        return int(found.group(1))


def instructions(args: argparse.Namespace) -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install -y valgrind)")
    cases = ["untracked", "tracked", "memory hit"]
    print("instructions per call, and the ratio to an untracked call (the caller's process)")
    print(f"{'case':<18}" + "".join(f"{name:>22}" for name in cases))
    loopback = Loopback(args.stream_chunks)
    with loopback.running() as server:
        for level, stream in rows(args.only):
            per_call = {}
            for case in cases:
                one = count(server.host, level, case, stream, args.calls)
                two = count(server.host, level, case, stream, 2 * args.calls)
                per_call[case] = (two - one) / args.calls
            base = per_call["untracked"]
            label = f"{level}, {'stream' if stream else 'JSON'}"
            cells = [f"{per_call[c]:>12,.0f} {per_call[c] / base:>7.3f}" for c in cases]
            print(f"{label:<18}" + "".join(f"{cell:>22}" for cell in cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--stream-chunks", type=int, default=20)
    parser.add_argument(
        "--server-delay-ms",
        type=float,
        default=0.0,
        help="make the server wait this long before answering (default 0: pure loopback)",
    )
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions (valgrind) instead"
    )
    parser.add_argument("--calls", type=int, default=300, help="calls per child (--instructions)")
    parser.add_argument(
        "--only", nargs="+", choices=ROWS, help="measure these rows only (default: all)"
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        host, level, case, stream, calls = args.child
        run_child(host, level, case, stream == "1", int(calls))
    elif args.instructions:
        instructions(args)
    else:
        timing(args)


if __name__ == "__main__":
    main()
