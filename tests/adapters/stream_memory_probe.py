"""Run in a fresh process by test_loopback.py (beside it): stream 50 MB and report peak RSS growth.

Usage: python stream_memory_probe.py BASE_URL
"""

from __future__ import annotations

import json
import resource
import sys

from tokenbudget import TokenTracker


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    base_url = sys.argv[1]
    host = base_url.split("//", 1)[1].split("/", 1)[0]
    tracker = TokenTracker(hosts={host: "openai"})
    client = tracker.httpx_client(timeout=120)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "stream": True}

    def stream() -> int:
        total = 0
        with client.stream("POST", f"{base_url}/chat/completions", json=body) as response:
            for piece in response.iter_bytes():
                total += len(piece)
        return total

    # Warm up: imports, tokenizer, connection pool. The server sends 50 MB every time,
    # so stop reading early here; this also exercises the abandoned path.
    with client.stream("POST", f"{base_url}/chat/completions", json=body) as response:
        for _ in zip(range(100), response.iter_bytes(), strict=False):
            pass
    before = peak_rss_kb()
    total = stream()
    growth = peak_rss_kb() - before
    record = tracker.records[-1]
    print(
        json.dumps(
            {
                "bytes": total,
                "rss_growth_kb": growth,
                "usage": [record.usage.input_tokens, record.usage.output_tokens],
            }
        )
    )


if __name__ == "__main__":
    main()
