"""``http_client=tracker.httpx_client()`` works with whichever SDK releases are installed.

Version-neutral: each installed SDK (openai, anthropic, google-genai) is given the
default tracked client, sync and async, and asked once against a loopback server. Run in
an environment with openai 1.x next to httpx2, the default is an ``httpx.Client``, which
that SDK accepts; with current SDKs it is an ``httpx2.Client``. The ``wrap_*`` copies
keep the family of the client they wrap, whichever it is.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tokenbudget import TokenTracker, Usage
from tokenbudget._adapters import accepted_families, family_of, installed_version

from ..gemini_loopback import USAGE as GEMINI_USAGE
from ..gemini_loopback import ask, gemini_server, genai_release, has_option
from ..loopback import LoopbackServer
from ..support import StubBook

OPENAI_BODY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
}
ANTHROPIC_BODY = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "Hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 5},
}
ROUTES = {
    "openai": ("/v1/chat/completions", OPENAI_BODY),
    "anthropic": ("/v1/messages", ANTHROPIC_BODY),
}
SDKS = {"openai": "openai", "anthropic": "anthropic", "google": "google.genai"}
DISTRIBUTIONS = {"openai": "openai", "anthropic": "anthropic", "google": "google-genai"}


def _installed_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _installed(sdk: str) -> bool:
    return _installed_module(SDKS[sdk])


def _sdk(sdk: str) -> Any:
    if not _installed(sdk):
        pytest.skip(f"{DISTRIBUTIONS[sdk]} is not installed")
    return importlib.import_module(SDKS[sdk])


@contextmanager
def stainless_server(provider: str) -> Iterator[LoopbackServer]:
    """A loopback server answering ``provider``'s chat call with 12 in, 5 out."""
    path, body = ROUTES[provider]
    data = json.dumps(body).encode()

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    server = LoopbackServer()
    server.routes[path] = route
    with server.running():
        yield server


def _stainless(module: Any, provider: str, mode: str, server: LoopbackServer, **kw: Any) -> Any:
    names = {"openai": ("OpenAI", "AsyncOpenAI"), "anthropic": ("Anthropic", "AsyncAnthropic")}
    cls = getattr(module, names[provider][mode == "async"])
    base_url = server.base_url if provider == "openai" else f"http://{server.host}"
    return cls(api_key="test-key", base_url=base_url, max_retries=0, **kw)


async def _chat(client: Any, provider: str, mode: str) -> None:
    messages = [{"role": "user", "content": "Hi"}]
    if provider == "openai":
        call = client.chat.completions.create(model="gpt-4o", messages=messages)
    else:
        call = client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=messages)
    if mode == "async":
        await call


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_stainless_sdk_takes_the_default_client(provider: str, mode: str) -> None:
    module = _sdk(provider)
    with stainless_server(provider) as server:
        tracker = TokenTracker(prices=StubBook(), hosts={server.host: provider})
        factory = tracker.async_httpx_client if mode == "async" else tracker.httpx_client
        client = _stainless(module, provider, mode, server, http_client=factory())
        await _chat(client, provider, mode)
    assert len(server.requests) == 1
    assert tracker.records[0].usage == Usage(input_tokens=12, output_tokens=5)


async def test_google_genai_takes_the_default_client(mode: str) -> None:
    genai = _sdk("google")
    if not has_option("httpx_client"):
        pytest.skip("google-genai takes an http client from 1.46")
    if mode == "async" and genai_release() == (1, 46) and _installed_module("aiohttp"):
        pytest.skip("google-genai 1.46 sends by aiohttp even when given httpx_async_client")
    with gemini_server() as server:
        tracker = server.tracker()
        options = {
            "base_url": server.url,
            "httpx_client": tracker.httpx_client(),
            "httpx_async_client": tracker.async_httpx_client(),
        }
        client = genai.Client(api_key="g-key", http_options=options)
        await ask(client, mode, False)
    assert len(server.seen) == 1
    assert tracker.records[0].usage == GEMINI_USAGE


def _families(sdk: str) -> list[str]:
    """The families this SDK's installed release accepts as its http client."""
    version = installed_version(DISTRIBUTIONS[sdk])
    accepted = accepted_families(DISTRIBUTIONS[sdk], version) if version else None
    return sorted(name for name in accepted or () if importlib.util.find_spec(name) is not None)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_wrap_keeps_the_family_of_the_wrapped_client(provider: str, mode: str) -> None:
    module = _sdk(provider)
    families = _families(provider) or pytest.skip("this release takes no http client")
    for name in families:
        family = importlib.import_module(name)
        http_client = family.AsyncClient() if mode == "async" else family.Client()
        with stainless_server(provider) as server:
            tracker = TokenTracker(prices=StubBook(), hosts={server.host: provider})
            original = _stainless(module, provider, mode, server, http_client=http_client)
            wrapped = getattr(tracker, f"wrap_{provider}")(original)
            assert family_of(wrapped._client).name == name
            await _chat(wrapped, provider, mode)
        assert tracker.usage.calls == 1, name


async def test_wrap_google_keeps_the_family_of_the_wrapped_client(mode: str) -> None:
    genai = _sdk("google")
    families = _families("google") or pytest.skip("this release takes no http client")
    for name in families:
        family = importlib.import_module(name)
        with gemini_server() as server:
            tracker = server.tracker()
            options = {
                "base_url": server.url,
                "httpx_client": family.Client(),
                "httpx_async_client": family.AsyncClient(),
            }
            wrapped = tracker.wrap_google(genai.Client(api_key="g-key", http_options=options))
            api = wrapped._api_client
            assert family_of(api._httpx_client).name == name
            assert family_of(api._async_httpx_client).name == name
            await ask(wrapped, mode, False)
        assert tracker.usage.calls == 1, name
