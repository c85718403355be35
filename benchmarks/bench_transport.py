"""Tracked vs untracked: the real openai SDK over a mock transport, side by side in one run.

    python benchmarks/bench_transport.py [--rounds 41] [--cases json,stream,lean]

Each round times the same short batch of calls through a plain httpx2 client and
through a tracked one, alternating which goes first; the table shows the median
time per call of each, the median of the per-round ratios (tracked / untracked)
and that ratio's interquartile range. Short, many rounds keep a noisy shared
machine's pauses from landing on one side only: a pause spoils one round's
ratio, which the median then ignores. The ``lean`` case times the JSON call on
``lean_tracker.py``'s floor transport instead: the least a tracker recording what
tokenbudget records can add.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path

import httpx2
import openai
from sidebyside import compare

from tokenbudget import TokenTracker

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT.parent / "shared" / "tiktoken"))

CHAT = (ROOT / "fixtures" / "openai" / "chat.json").read_bytes()
MESSAGES = [{"role": "user", "content": "Hi"}]


def stream_body(chunks: int, include_usage: bool) -> bytes:
    """An OpenAI chat stream of ``chunks`` content events (and a usage event when asked)."""
    out = []
    for index in range(chunks):
        chunk = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "delta": {"content": f" word{index}"}, "finish_reason": None}],
        }
        if include_usage:
            chunk["usage"] = None
        out.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    # The last content event carries finish_reason, as OpenAI sends it (LiteLLM needs it).
    finish: dict[str, object] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    if include_usage:
        finish["usage"] = None
    out.append(b"data: " + json.dumps(finish).encode() + b"\n\n")
    if include_usage:
        out.append(
            b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,'
            b'"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":8,'
            b'"completion_tokens":%d,"total_tokens":%d}}\n\n' % (chunks, chunks + 8)
        )
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def handler_for(chunks: int) -> Callable[[httpx2.Request], httpx2.Response]:
    with_usage = stream_body(chunks, True)
    without = stream_body(chunks, False)

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if body.get("stream"):
            asked = (body.get("stream_options") or {}).get("include_usage")
            # Each event is its own network chunk, as a real server sends them.
            data = with_usage if asked else without
            pieces = [p + b"\n\n" for p in data.split(b"\n\n") if p]
            return httpx2.Response(
                200, headers={"content-type": "text/event-stream"}, content=iter(pieces)
            )
        # A real transport hands the body over as a stream; a pre-read body would let
        # the untracked client skip httpx's whole read path and flatter it.
        return httpx2.Response(
            200, headers={"content-type": "application/json"}, content=iter([CHAT])
        )

    return handler


def lean_client(tracker: TokenTracker | None = None) -> openai.OpenAI:
    """An openai client on the floor transport of ``lean_tracker.py`` (chat calls only),
    recording into ``tracker`` (a new one by default)."""
    from lean_tracker import LeanTracker

    transport = LeanTracker(httpx2.MockTransport(handler_for(1)), tracker or TokenTracker())
    return openai.OpenAI(api_key="sk-bench", http_client=httpx2.Client(transport=transport))


def clients(chunks: int) -> tuple[openai.OpenAI, openai.OpenAI, TokenTracker]:
    handler = handler_for(chunks)
    tracker = TokenTracker()
    plain = openai.OpenAI(
        api_key="sk-bench", http_client=httpx2.Client(transport=httpx2.MockTransport(handler))
    )
    tracked = openai.OpenAI(
        api_key="sk-bench",
        http_client=tracker.httpx_client(transport=httpx2.MockTransport(handler)),
    )
    return plain, tracked, tracker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument(
        "--cases",
        default="json,stream",
        help="comma-separated: json, stream, lean (the JSON call on lean_tracker.py's floor)",
    )
    args = parser.parse_args()
    cases = set(args.cases.split(","))

    plain, tracked, tracker = clients(1000)

    def chat(client: openai.OpenAI) -> Callable[[], object]:
        return lambda: client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    def stream(client: openai.OpenAI) -> Callable[[], object]:
        def run() -> object:
            return sum(
                1
                for _ in client.chat.completions.create(
                    model="gpt-4o-mini", messages=MESSAGES, stream=True
                )
            )

        return run

    rows = []
    if "json" in cases:
        rows.append(compare("chat, JSON", chat(plain), chat(tracked), 50, args.rounds))
    if "lean" in cases:
        rows.append(
            compare("chat, JSON, lean floor", chat(plain), chat(lean_client()), 50, args.rounds)
        )
    if "stream" in cases:
        rows.append(
            compare("chat, 1,000-chunk stream", stream(plain), stream(tracked), 1, args.rounds)
        )
    print(f"{'case':<28}{'untracked':>14}{'tracked':>14}{'ratio':>9}{'IQR':>16}")
    for name, a, b, ratio, low, high in rows:
        print(
            f"{name:<28}{a * 1e6:>11.1f} µs{b * 1e6:>11.1f} µs{ratio:>9.3f}"
            f"{f'{low:.3f}-{high:.3f}':>16}"
        )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{tracker.usage.calls} tracked calls recorded; medians of {args.rounds} rounds")
    print(f"load average (1, 5, 15 min): {load}")


if __name__ == "__main__":
    main()
