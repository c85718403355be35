"""What the plugin's tests put in their pytester directories: ini, LLM helpers, expected costs."""

from __future__ import annotations

from decimal import Decimal

import openai
import pytest

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM

#: Strict inner runs: a warning from the plugin is an error there too.
INI = """
[pytest]
filterwarnings = error
asyncio_default_fixture_loop_scope = function
"""

#: ``llm.py`` in an inner suite: OpenAI clients built plainly, as an application would.
LLM = '''
"""OpenAI over the fake provider, or over the network when NETWORK_BLOCKED is set."""
import os
import socket

import httpx2
import openai

from tokenbudget.testing import FakeLLM

KEY = os.environ.get("LLM_KEY", "sk-test-key")

if os.environ.get("NETWORK_BLOCKED"):
    def _refuse(self, address):
        raise OSError(f"network blocked in this run: connect to {address}")

    socket.socket.connect = _refuse


def client(transport=None, **kwargs):
    """An OpenAI client; over FakeLLM unless the network is blocked (then: the real API)."""
    if transport is None and not os.environ.get("NETWORK_BLOCKED"):
        transport = FakeLLM()
    http_client = httpx2.Client(transport=transport)
    return openai.OpenAI(api_key=KEY, http_client=http_client, max_retries=0, **kwargs)


def ask(llm, text="Hello", model="gpt-4o", **kwargs):
    reply = llm.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}], **kwargs
    )
    return reply.choices[0].message.content


def stream(llm, text="Hello", model="gpt-4o-mini"):
    chunks = llm.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}], stream=True
    )
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
'''


def suite(pytester: pytest.Pytester, **tests: str) -> None:
    """The ini, ``llm.py`` and the given test modules in ``pytester``'s directory."""
    pytester.makeini(INI)
    pytester.makepyfile(llm=LLM, **tests)


def cost_of(text: str = "Hello", model: str = "gpt-4o", times: int = 1) -> Decimal:
    """What ``times`` calls ``llm.ask(client, text, model)`` cost, measured outside pytester."""
    tracker = TokenTracker()
    client = openai.OpenAI(
        api_key="sk-test-key",
        http_client=tracker.httpx_client(transport=FakeLLM()),
        max_retries=0,
    )
    for _ in range(times):
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    assert tracker.total_cost > 0
    return tracker.total_cost


def usd(value: Decimal) -> str:
    """The plugin's money format."""
    from tokenbudget.reports import usd as fmt

    return fmt(value)


__all__ = ["INI", "LLM", "cost_of", "suite", "usd"]
