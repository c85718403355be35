"""The offline demo: a small day of LLM calls to a fake OpenAI, Anthropic and Gemini.

``tokenbudget demo`` and ``examples/reports.py`` run it (:func:`run_demo`).
Calls go through a tracked httpx client to :class:`~tokenbudget.testing.FakeLLM`,
which answers in each API's real wire format, so everything from the transport
to the report is the real code path; there is no network and no API key.
Requests are plain JSON over the tracker's client, so no SDK needs to be
installed.
"""

from __future__ import annotations

from typing import Any

from .._tracker import TokenTracker
from ._fake import FakeLLM
from ._reply import FakeReply

__all__ = ["run_demo"]

_OPENAI = "https://api.openai.com/v1"
_ANTHROPIC = "https://api.anthropic.com/v1/messages"
_GEMINI = "https://generativelanguage.googleapis.com/v1beta/models/{model}:generateContent"

_REPLIES: list[str | FakeReply] = [
    # support: chat, streamed chat, responses
    "Your order ships tomorrow; the tracking link is in your inbox.",
    "Refunds take three to five business days to reach your card.",
    "You can change the delivery address until the parcel leaves the warehouse.",
    # summarize: two Anthropic calls, the second reading the prompt cache
    FakeReply(text="The report says costs fell 12% while usage doubled.", cache_write_tokens=900),
    FakeReply(
        text="Key risks: vendor lock-in and unpriced experimental models.", cached_tokens=900
    ),
    # search: Gemini, with reasoning tokens
    FakeReply(text="Three results match: pricing, budgets, caching.", reasoning_tokens=120),
    "The closest match is the budgets guide.",
    # a rate-limited call: recorded, not billed
    FakeReply(status=429),
]

_DOCUMENT = " ".join(["Quarterly cost review: token usage doubled, spend fell."] * 60)


def _openai(client: Any, path: str, body: dict[str, Any]) -> None:
    client.post(f"{_OPENAI}/{path}", json=body, headers={"authorization": "Bearer sk-demo"})


def _anthropic(client: Any, model: str, text: str) -> None:
    body = {"model": model, "max_tokens": 300, "messages": [{"role": "user", "content": text}]}
    headers = {"x-api-key": "sk-ant-demo", "anthropic-version": "2023-06-01"}
    client.post(_ANTHROPIC, json=body, headers=headers)


def _gemini(client: Any, model: str, text: str) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    client.post(_GEMINI.format(model=model), json=body, headers={"x-goog-api-key": "demo-key"})


def run_demo(tracker: TokenTracker) -> int:
    """Make the demo's calls through ``tracker``; returns how many were made."""
    fake = FakeLLM(replies=_REPLIES)
    with tracker.httpx_client(transport=fake) as client:
        with tracker.tag(feature="support"):
            question = {"role": "user", "content": "Where is my order #1042?"}
            _openai(client, "chat/completions", {"model": "gpt-4o-mini", "messages": [question]})
            refund = {"role": "user", "content": "How long does a refund take?"}
            stream = {"model": "gpt-4o", "messages": [refund], "stream": True}
            _openai(client, "chat/completions", stream)
            _openai(client, "responses", {"model": "gpt-4.1-mini", "input": "Change address?"})
        with tracker.tag(feature="summarize"):
            _anthropic(client, "claude-sonnet-4-5", f"Summarize: {_DOCUMENT}")
            _anthropic(client, "claude-sonnet-4-5", f"List the risks in: {_DOCUMENT}")
        with tracker.tag(feature="search"):
            _gemini(client, "gemini-2.5-flash", "Which guide explains spending limits?")
            _gemini(client, "gemini-2.5-flash-lite", "Which guide is closest to 'budgets'?")
            texts = ["pricing guide", "budgets guide", "caching guide"]
            _openai(client, "embeddings", {"model": "text-embedding-3-small", "input": texts})
            _openai(client, "chat/completions", {"model": "gpt-4o-mini", "messages": [question]})
    return fake.calls
