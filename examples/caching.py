"""Response caching: identical calls are answered from stored bytes, for free, offline.

The calls are answered by ``tokenbudget.testing.FakeLLM`` (no network, no API key).
The disk cache lives in a temporary directory here; by default ``cache="disk"`` uses
``$TOKENBUDGET_CACHE_DIR`` or ``~/.cache/tokenbudget`` and survives restarts.

    pip install -e ".[all]"
    python examples/caching.py
"""

from __future__ import annotations

import tempfile
from decimal import Decimal

import openai

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM

QUESTION = [{"role": "user", "content": "Name three ways to spend less on LLM calls."}]


def usd(value: Decimal | None) -> str:
    """A cost exactly as tokenbudget computed it, without trailing zeros ("$0.000155")."""
    return "unpriced" if value is None else f"${value:f}"


def ask(client: openai.OpenAI, *, stream: bool = False) -> str:
    """One chat call; the answer's text."""
    if stream:
        chunks = client.chat.completions.create(model="gpt-4o", messages=QUESTION, stream=True)
        return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    completion = client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    return completion.choices[0].message.content or ""


def main() -> None:
    fake = FakeLLM(reply="Cache identical calls, set budgets, pick smaller models.")
    with tempfile.TemporaryDirectory() as directory:
        tracker = TokenTracker(cache="disk", cache_dir=directory, cache_ttl=24 * 3600)
        client = openai.OpenAI(api_key="sk-fake", http_client=tracker.httpx_client(transport=fake))

        print("1st call: ", ask(client))  # sent to the provider, answer stored
        print("2nd call: ", ask(client))  # same request: replayed, costs nothing
        print("streamed: ", ask(client, stream=True))  # a stream is cached as a stream
        print("again:    ", ask(client, stream=True))  # ... and replayed chunk by chunk

        with tracker.no_cache():  # these calls neither read nor fill the cache
            ask(client)
        with tracker.refresh_cache():  # skip the lookup, store the fresh answer
            ask(client)

        print()
        print(f"requests that reached the provider: {fake.calls}")
        for record in tracker.records:
            saved = f" saved {usd(record.saved_cost_usd)}" if record.cached else ""
            print(
                f"  {'stream' if record.stream else 'json':<6} cached={record.cached!s:<5} "
                f"cost {usd(record.cost_usd)}{saved}"
            )
        stats = tracker.cache_stats
        print(
            f"cache: {stats.hits} hits, {stats.misses} misses, hit rate {stats.hit_rate:.0%}, "
            f"saved {usd(stats.saved_cost_usd)} and {stats.saved_tokens} tokens"
        )
        tracker.clear_cache()


if __name__ == "__main__":
    main()
