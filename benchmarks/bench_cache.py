"""Response cache: a call answered by a loopback server vs a memory hit vs a disk hit.

    python benchmarks/bench_cache.py [--rounds 15] [--stream-chunks 20] [--server-delay-ms 0]

A real HTTP server on 127.0.0.1 answers OpenAI chat completions (JSON, and an SSE
stream of ``--stream-chunks`` events), with keep-alive and each response sent in one
write, so the server path is as fast as loopback allows. The same request is timed
side by side in one run, alternating the order per round, at two levels:

- **sdk**: ``client.chat.completions.create(...)`` through the real openai SDK,
  what a user sees; the SDK's own per-call work (request building, validation,
  parsing into pydantic models) is paid by hits and misses alike.
- **transport**: ``handle_request`` of the tracking transport and reading the body,
  i.e. exactly the part of a call the cache replaces (the network round trip vs
  key + lookup + replay), with tokenbudget's recording on both sides.

Each row prints the median time per call and the median of per-round ratios
(server / hit): how many times faster the hit is.

With the default instant server the ratios have ceilings no cache can pass: at the
sdk level, server / hit is at most (SDK work + server) / SDK work, about 2x here; at
the transport level a hit still builds and reads an httpx response and records the
call. ``--server-delay-ms`` models a provider's answer time (a real one takes
hundreds of milliseconds) to show what a hit saves in practice.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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

from tokenbudget import TokenTracker

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT.parent / "shared" / "tiktoken"))

CHAT = (ROOT / "fixtures" / "openai" / "chat.json").read_bytes()
MESSAGES: Any = [{"role": "user", "content": "Hi"}]


def stream_body(chunks: int) -> bytes:
    """An OpenAI chat stream with usage, as the server sends it."""
    events = []
    for index in range(chunks):
        chunk = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "delta": {"content": f" word{index}"}, "finish_reason": None}],
            "usage": None,
        }
        events.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    events.append(
        b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,'
        b'"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":8,'
        b'"completion_tokens":%d,"total_tokens":%d}}\n\n' % (chunks, chunks + 8)
    )
    events.append(b"data: [DONE]\n\n")
    return b"".join(events)


class Loopback:
    """An OpenAI-like server on 127.0.0.1: keep-alive, no Nagle, one write per response."""

    def __init__(self, stream_chunks: int, delay: float = 0.0) -> None:
        stream = stream_body(stream_chunks)
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


def compare(
    calls: dict[str, Callable[[], object]], repeat: int, rounds: int
) -> dict[str, tuple[float, float]]:
    """Median seconds per call of each case, and the median per-round ratio server / case."""
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
            ratios[name].append(this_round["server"] / this_round[name])
    return {
        name: (statistics.median(times[name]), statistics.median(ratios[name])) for name in names
    }


def trackers(host: str, directory: str) -> dict[str, TokenTracker]:
    hosts = {host: "openai"}
    return {
        "server": TokenTracker(hosts=hosts),
        "memory hit": TokenTracker(hosts=hosts, cache="memory"),
        "disk hit": TokenTracker(hosts=hosts, cache="disk", cache_dir=directory),
    }


def sdk_calls(host: str, tracked: dict[str, TokenTracker], stream: bool) -> dict[str, Any]:
    def call_with(tracker: TokenTracker) -> Callable[[], object]:
        client = openai.OpenAI(
            api_key="sk-bench", base_url=f"http://{host}/v1", http_client=tracker.httpx_client()
        )

        def call() -> object:
            made = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=stream)
            return sum(1 for _ in made) if stream else made

        return call

    return {name: call_with(tracker) for name, tracker in tracked.items()}


def transport_calls(host: str, tracked: dict[str, TokenTracker], stream: bool) -> dict[str, Any]:
    body = json.dumps({"model": "gpt-4o", "messages": MESSAGES, "stream": stream}).encode()
    headers = {"authorization": "Bearer sk-bench", "content-type": "application/json"}

    # One request object, sent again and again: its building is no part of either path.
    request = httpx2.Request(
        "POST", f"http://{host}/v1/chat/completions", headers=headers, content=body
    )

    def call_with(tracker: TokenTracker) -> Callable[[], object]:
        transport = tracker.transport(family="httpx2")

        def call() -> object:
            response = transport.handle_request(request)
            try:
                return sum(len(chunk) for chunk in response.stream)
            finally:
                response.close()

        return call

    return {name: call_with(tracker) for name, tracker in tracked.items()}


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
    args = parser.parse_args()

    rows: list[tuple[str, dict[str, tuple[float, float]]]] = []
    loopback = Loopback(args.stream_chunks, args.server_delay_ms / 1000)
    with loopback.running() as server, tempfile.TemporaryDirectory() as tmp:
        tracked = trackers(server.host, tmp)
        for level, build, repeat in (("sdk", sdk_calls, 40), ("transport", transport_calls, 100)):
            for stream in (False, True):
                label = f"{level}, {'stream' if stream else 'JSON'}"
                rows.append(
                    (label, compare(build(server.host, tracked, stream), repeat, args.rounds))
                )
        stats = {name: tracker.cache_stats for name, tracker in tracked.items()}

    print(f"{'case':<18}{'server':>12}{'memory hit':>12}{'ratio':>8}{'disk hit':>12}{'ratio':>8}")
    for label, result in rows:
        (server_time, _), (memory, memory_ratio), (disk, disk_ratio) = (
            result["server"],
            result["memory hit"],
            result["disk hit"],
        )
        print(
            f"{label:<18}{server_time * 1e6:>9.0f} µs{memory * 1e6:>9.0f} µs{memory_ratio:>7.1f}x"
            f"{disk * 1e6:>9.0f} µs{disk_ratio:>7.1f}x"
        )
    delay = f", server delay {args.server_delay_ms:g} ms" if args.server_delay_ms else ""
    print(f"\nserver requests: {server.requests}; medians of {args.rounds} rounds{delay}")
    for name in ("memory hit", "disk hit"):
        found = stats[name]
        print(f"{name}: {found.hits} hits, {found.misses} misses, {found.entries} entries")


if __name__ == "__main__":
    main()
