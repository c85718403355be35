"""The pytest plugin counts google-genai's async calls too, with aiohttp installed.

The plugin patches client classes itself (not through ``patch_all``), so it asks for
the google-genai hook in its own name. The inner test answers every httpx request
itself (at the transport class, beneath tracking) and refuses aiohttp outright: a call
that went through aiohttp fails, one that went through the tracked httpx client counts.
"""

from __future__ import annotations

import pytest

INNER = """
import asyncio
import json

import pytest
from google import genai

ANSWER = json.dumps({
    "candidates": [{"content": {"parts": [{"text": "Oi"}], "role": "model"},
                    "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7,
                      "totalTokenCount": 18},
    "modelVersion": "gemini-2.5-flash",
}).encode()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    for name in ("httpx", "httpx2"):
        try:
            module = __import__(name)
        except ImportError:
            continue

        async def answer(self, request, module=module):
            return module.Response(
                200, headers={"content-type": "application/json"}, content=ANSWER
            )

        monkeypatch.setattr(module.AsyncHTTPTransport, "handle_async_request", answer)
    try:
        import aiohttp
    except ImportError:
        return

    async def refuse(self, *args, **kwargs):
        raise AssertionError("this call went through aiohttp, around every tracker")

    monkeypatch.setattr(aiohttp.ClientSession, "_request", refuse)


def test_an_async_gemini_call(tokenbudget):
    client = genai.Client(api_key="g-key")
    answer = asyncio.run(client.aio.models.generate_content(
        model="gemini-2.5-flash", contents="Oi"))
    assert answer.text == "Oi"
    tokenbudget.assert_calls(1, provider="google")
    assert tokenbudget.usage.total_tokens == 18
"""


def test_the_plugin_counts_async_gemini_calls(pytester: pytest.Pytester) -> None:
    pytest.importorskip("aiohttp")
    pytester.makeini("[pytest]\nfilterwarnings =\n    error\n    ignore::DeprecationWarning\n")
    pytester.makepyfile(test_gemini=INNER)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
