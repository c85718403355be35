"""Real SDK clients of whichever generation is installed, pointed at a loopback server.

Used by the refusal tests that the compatibility matrix reruns under old SDK
releases (openai 1.40, anthropic 0.40, google-genai 1.x...), so this module
imports no SDK at import time and nothing from ``helpers`` (which needs every
SDK): each driver imports its SDK when a test asks for it, and skips the test
when it is not installed or does not take a client of the family asked for.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

import tokenbudget
from tokenbudget import TokenTracker

from ..loopback import LoopbackServer

FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures"
MESSAGES = [{"role": "user", "content": "Hi"}]
#: What each route answers: a recorded body of that API (totals of 29 tokens and more).
ANSWERS = {
    "/v1/chat/completions": "openai/chat.json",
    "/v1/messages": "anthropic/messages.json",
    "/v1beta/models/gemini-2.5-flash:generateContent": "google/generate_content.json",
}


def _answer(name: str) -> Callable[[BaseHTTPRequestHandler], None]:
    body = (FIXTURES / name).read_bytes()

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return route


@contextmanager
def running_server() -> Iterator[LoopbackServer]:
    """A loopback server answering each API's JSON call; ``requests`` counts what arrived."""
    server = LoopbackServer()
    for path, name in ANSWERS.items():
        server.routes[path] = _answer(name)
    with server.running():
        yield server


def version(module: str) -> str:
    """The installed version of ``module`` (its ``__version__``)."""
    return str(getattr(pytest.importorskip(module), "__version__", "?"))


def tracked_http(tracker: TokenTracker, family: str, mode: str, **kwargs: Any) -> Any:
    """A tracked httpx client of ``family``; skips when that family is not installed."""
    make = tracker.async_httpx_client if mode == "async" else tracker.httpx_client
    try:
        return make(family, **kwargs)
    except ImportError:
        pytest.skip(f"{family} is not installed")


@dataclass(frozen=True)
class Sdk:
    """How a test drives one SDK: its client over a tracked http client, and one call."""

    name: str
    provider: str
    model: str
    build: Callable[[TokenTracker, str, str, LoopbackServer, dict[str, Any]], Any]
    send: Callable[[Any, bool, str], Any]

    def client(
        self, tracker: TokenTracker, family: str, mode: str, server: LoopbackServer, **http: Any
    ) -> Any:
        """The SDK's client (``mode`` sync or async) on a tracked ``family`` client."""
        return self.build(tracker, family, mode, server, http)

    def call(self, client: Any, mode: str, stream: bool = False) -> Any:
        """One call: its result, an awaitable in ``mode`` async."""
        return self.send(client, stream, mode)

    def __str__(self) -> str:
        return self.name


def _refused_family(sdk: str, family: str, error: Exception) -> None:
    pytest.skip(f"{sdk} {version(sdk)} does not take an {family} client ({error})")


def _openai(
    tracker: TokenTracker, family: str, mode: str, server: LoopbackServer, http: dict[str, Any]
) -> Any:
    openai = pytest.importorskip("openai")
    cls = openai.AsyncOpenAI if mode == "async" else openai.OpenAI
    try:
        return cls(
            api_key="sk-test",
            base_url=server.base_url,
            http_client=tracked_http(tracker, family, mode, **http),
        )
    except TypeError as error:
        _refused_family("openai", family, error)


def _anthropic(
    tracker: TokenTracker, family: str, mode: str, server: LoopbackServer, http: dict[str, Any]
) -> Any:
    anthropic = pytest.importorskip("anthropic")
    cls = anthropic.AsyncAnthropic if mode == "async" else anthropic.Anthropic
    try:
        return cls(
            api_key="sk-ant-test",
            base_url=f"http://{server.host}",
            http_client=tracked_http(tracker, family, mode, **http),
        )
    except TypeError as error:
        _refused_family("anthropic", family, error)


def _google(
    tracker: TokenTracker, family: str, mode: str, server: LoopbackServer, http: dict[str, Any]
) -> Any:
    genai = pytest.importorskip("google.genai")
    types = genai.types
    base = f"http://{server.host}/"
    if "httpx_client" in types.HttpOptions.model_fields:
        options = types.HttpOptions(
            base_url=base,
            api_version="v1beta",
            httpx_client=tracked_http(tracker, family, "sync", **http),
            httpx_async_client=tracked_http(tracker, family, "async", **http),
        )
        return genai.Client(api_key="g-test", http_options=options)
    # google-genai 1.x takes no http client: its own, built under patch_all.
    if set(http) - {"event_hooks"}:
        pytest.skip(f"google-genai {version('google.genai')} takes no http client")
    with tokenbudget.patched(tracker):
        options = types.HttpOptions(base_url=base, api_version="v1beta")
        client = genai.Client(api_key="g-test", http_options=options)
    api = client._api_client
    own = getattr(api, "_async_httpx_client" if mode == "async" else "_httpx_client", None)
    if own is None:  # 1.0-1.6: requests or a client per call (tests/adapters/test_requests_genai)
        pytest.skip(f"google-genai {version('google.genai')} keeps no {family} client")
    module = pytest.importorskip(family)
    if not isinstance(own, (module.Client, module.AsyncClient)):
        pytest.skip(f"google-genai {version('google.genai')} builds no {family} client")
    if "event_hooks" in http:
        own.event_hooks = http["event_hooks"]
    return client


def _openai_call(client: Any, stream: bool, mode: str) -> Any:
    return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=stream)


def _anthropic_call(client: Any, stream: bool, mode: str) -> Any:
    return client.messages.create(
        model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES, stream=stream
    )


def _google_call(client: Any, stream: bool, mode: str) -> Any:
    models = client.aio.models if mode == "async" else client.models
    method = models.generate_content_stream if stream else models.generate_content
    return method(model="gemini-2.5-flash", contents="one two three four")


SDKS = [
    Sdk("openai", "openai", "gpt-4o-mini", _openai, _openai_call),
    Sdk("anthropic", "anthropic", "claude-sonnet-4-6", _anthropic, _anthropic_call),
    Sdk("google-genai", "google", "gemini-2.5-flash", _google, _google_call),
]


async def run(result: Any, stream: bool) -> None:
    """Finish a call: await it (async clients) and read a stream to its end."""
    if inspect.isawaitable(result):
        result = await result
    if not stream:
        return
    if hasattr(result, "__aiter__"):
        async for _ in result:
            pass
    else:
        for _ in result:
            pass


def send_hooks(mode: str, on_send: Callable[[], None]) -> dict[str, Any]:
    """``event_hooks`` for a client of ``mode`` calling ``on_send()`` as each request is sent."""

    async def hook_async(request: Any) -> None:
        on_send()

    def hook(request: Any) -> None:
        on_send()

    return {"request": [hook_async if mode == "async" else hook]}
