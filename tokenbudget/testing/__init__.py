"""Offline testing for code that calls LLM APIs: a fake provider under the SDKs.

:class:`FakeLLM` is an httpx (or httpx2) transport that answers OpenAI,
Anthropic and Gemini requests in each API's exact wire format, JSON and
streamed, with token usage computed from the request by tokenbudget's
tokenizer and replies you script. Put it under a tracker's client and your
suite, and our examples, run without network or API keys, with realistic token
counts and costs::

    from tokenbudget import TokenTracker
    from tokenbudget.testing import FakeLLM, FakeReply

    fake = FakeLLM(replies=["Paris.", FakeReply(status=429)])
    tracker = TokenTracker()
    client = openai.OpenAI(api_key="sk-fake", http_client=tracker.httpx_client(transport=fake))

:func:`fake_llm` is the same as a pytest fixture; :func:`run_demo` makes a small
day of calls to all three fakes (``tokenbudget demo`` and the examples use it).
"""

from __future__ import annotations

from ._demo import run_demo
from ._fake import DEFAULT_CREATED, FakeLLM
from ._reply import FakeReply
from ._request import FakeRequest, Message
from .fixtures import fake_llm

__all__ = [
    "DEFAULT_CREATED",
    "FakeLLM",
    "FakeReply",
    "FakeRequest",
    "Message",
    "fake_llm",
    "run_demo",
]
