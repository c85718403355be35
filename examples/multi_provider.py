"""One tracker, many providers: OpenAI, Anthropic, Gemini, Groq, DeepSeek, OpenRouter, local.

Every SDK is given a client from the same tracker; tokenbudget sits under them
as an httpx transport and reads each provider's own usage format. To run
offline, a mock transport under the tracking replays answers recorded from
each API (the files in ``fixtures/``), so no API key or network is needed::

    python examples/multi_provider.py

In real code, drop the ``transport=`` argument: ``tracker.httpx_client()``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
from google import genai
from google.genai import types

from tokenbudget import TokenTracker

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


Routes = dict[str, tuple[str, str]]


def replay(routes: Routes) -> httpx2.MockTransport:
    """A transport answering from ``{url suffix: (JSON file, stream file)}`` recordings."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        url = str(request.url)
        body = request.content.replace(b" ", b"")
        streamed = b'"stream":true' in body or url.endswith("alt=sse")
        for suffix, (plain, stream) in routes.items():
            if url.endswith(suffix):
                name = stream if streamed else plain
                kind = "text/event-stream" if streamed else "application/json"
                content = (FIXTURES / name).read_bytes()
                return httpx2.Response(200, headers={"content-type": kind}, content=content)
        return httpx2.Response(404, json={"error": {"message": f"no recording for {url}"}})

    return httpx2.MockTransport(handle)


def openai_style(tracker: TokenTracker, base_url: str, folder: str) -> openai.OpenAI:
    """An openai SDK client for an OpenAI-compatible host, replaying ``fixtures/<folder>``."""
    recorded = {"/chat/completions": (f"{folder}/chat.json", f"{folder}/chat_stream.sse")}
    return openai.OpenAI(
        api_key="sk-offline",
        base_url=base_url,
        http_client=tracker.httpx_client(transport=replay(recorded)),
    )


def main() -> TokenTracker:
    tracker = TokenTracker()
    hello = [{"role": "user", "content": "Hello!"}]

    # OpenAI itself.
    gpt = openai.OpenAI(
        api_key="sk-offline",
        http_client=tracker.httpx_client(
            transport=replay({"/chat/completions": ("openai/chat.json", "openai/chat_stream.sse")})
        ),
    )
    gpt.chat.completions.create(model="gpt-4o", messages=hello)

    # Anthropic: prompt caching with 5-minute and 1-hour writes, then a stream.
    claude = anthropic.Anthropic(
        api_key="sk-ant-offline",
        http_client=tracker.httpx_client(
            transport=replay(
                {"/v1/messages": ("anthropic/messages.json", "anthropic/messages_stream.sse")}
            )
        ),
    )
    claude.messages.create(model="claude-sonnet-4-6", max_tokens=256, messages=hello)
    with claude.messages.stream(
        model="claude-sonnet-4-6", max_tokens=256, messages=hello
    ) as stream:
        stream.get_final_message()

    # Gemini, sync and async (google-genai takes both clients in http_options).
    gemini_routes = {
        ":generateContent": ("google/generate_content.json", ""),
        ":streamGenerateContent?alt=sse": ("", "google/stream_generate_content.sse"),
    }
    gemini = genai.Client(
        api_key="offline",
        http_options=types.HttpOptions(
            httpx_client=tracker.httpx_client(transport=replay(gemini_routes)),
            httpx_async_client=tracker.async_httpx_client(transport=replay(gemini_routes)),
        ),
    )
    gemini.models.generate_content(model="gemini-2.5-pro", contents="Describe this chart.")

    async def stream_gemini() -> None:
        async for _ in await gemini.aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents="Say hi in Portuguese"
        ):
            pass

    asyncio.run(stream_gemini())

    # OpenAI-compatible hosts, each with its own way of counting.
    for base_url, folder, model in [
        ("https://api.groq.com/openai/v1", "groq", "llama-3.3-70b-versatile"),
        ("https://api.deepseek.com", "deepseek", "deepseek-chat"),
        ("https://openrouter.ai/api/v1", "openrouter", "openai/gpt-5"),
        ("http://localhost:11434/v1", "local", "qwen3:8b"),
    ]:
        client = openai_style(tracker, base_url, folder)
        client.chat.completions.create(model=model, messages=hello)
        for _ in client.chat.completions.create(model=model, messages=hello, stream=True):
            pass
    return tracker


def money(summary: Any) -> str:
    text = f"${summary.cost_usd:f}"  # exact, no trailing zeros
    return text + (f" (+{summary.unpriced_calls} unpriced)" if summary.unpriced_calls else "")


def report(tracker: TokenTracker) -> None:
    print(f"{'provider':<12} {'calls':>5} {'input':>8} {'output':>8}  cost")
    for provider, summary in sorted(tracker.usage_by_provider.items()):
        print(
            f"{provider:<12} {summary.calls:>5} {summary.input_tokens:>8} "
            f"{summary.output_tokens:>8}  {money(summary)}"
        )
    print()
    print(f"{'model':<34} {'calls':>5} {'tokens':>8}  cost")
    for model, summary in sorted(tracker.usage_by_model.items()):
        print(f"{model:<34} {summary.calls:>5} {summary.total_tokens:>8}  {money(summary)}")
    print()
    print(f"total: {tracker.total_tokens} tokens, ${tracker.total_cost:f}")


if __name__ == "__main__":
    report(main())
