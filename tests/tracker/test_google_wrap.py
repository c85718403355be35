"""``tracker.wrap_google`` through the real google-genai SDK, against a Gemini API on loopback.

Version-neutral: this file runs with whichever google-genai is installed, from 1.6 (a new
httpx client per call), through 1.7-1.45 (httpx clients with no way to pass one in) and
1.21+ (async calls through aiohttp when it is installed) to 3.x (``HttpOptions.httpx_client``
and httpx2). With aiohttp installed (the dev extra installs it), the async cases prove the
copy's async calls leave through its tracked httpx client, not aiohttp.
"""

from __future__ import annotations

from typing import Any

import pytest
from google import genai

import tokenbudget
from tokenbudget import TokenTracker

from ..gemini_loopback import (
    COST,
    MODEL,
    TEXT,
    USAGE,
    across_loops,
    ask,
    gemini_server,
    has_option,
)
from ..support import StubBook

_REQUESTS_ERA = tuple(int(part) for part in genai.__version__.split(".")[:2]) < (1, 6)


def test_wrap_google_on_a_requests_release_says_to_use_patch_all() -> None:
    """google-genai 1.0-1.5 build a ``requests`` session per call: nothing to copy."""
    if not _REQUESTS_ERA:
        pytest.skip(f"google-genai {genai.__version__} sends through httpx")
    client = genai.Client(api_key="g-key", http_options={"base_url": "http://127.0.0.1:9/"})
    with pytest.raises(TypeError, match=r"patch_all\(tracker\)"):
        TokenTracker().wrap_google(client)


if _REQUESTS_ERA:  # everything below is about copies, which those releases cannot have
    pytest.skip("google-genai < 1.6: wrap_google refuses", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings(
    # google-genai 3.x subclasses aiohttp's ClientSession, which aiohttp 3.14 frowns on;
    # only the untracked original client goes through aiohttp here.
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)

#: Pools of event loops that have closed cannot be closed: their sockets go when collected.
LEFT_BEHIND = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)
STREAM = pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])


@STREAM
async def test_the_copy_is_tracked_and_the_original_is_not(mode: str, stream: bool) -> None:
    with gemini_server() as server:
        tracker = server.tracker()
        options = {"base_url": server.url, "headers": {"x-team": "search"}}
        original = genai.Client(api_key="g-key", http_options=options)
        wrapped = tracker.wrap_google(original)
        assert await ask(wrapped, mode, stream) == TEXT
        # Not streamed: some releases' own aiohttp stream readers fail on this server.
        assert await ask(original, mode, False) == TEXT
    assert len(server.seen) == 2, "each call reached the server exactly once"
    by_copy, by_original = server.seen
    assert by_copy.path.split(":")[0] == by_original.path.split(":")[0]
    assert by_copy.headers["x-goog-api-key"] == "g-key"
    assert by_copy.headers["x-team"] == "search"
    (record,) = tracker.records
    assert (record.provider, record.model, record.stream) == ("google", MODEL, stream)
    assert record.usage == USAGE
    assert record.cost_usd == COST


async def test_the_copy_keeps_vertex_settings(mode: str) -> None:
    with gemini_server() as server:
        tracker = server.tracker()
        original = genai.Client(
            vertexai=True, api_key="v-key", http_options={"base_url": server.url}
        )
        wrapped = tracker.wrap_google(original)
        assert wrapped._api_client.vertexai is True
        assert await ask(wrapped, mode, False) == TEXT
        assert await ask(original, mode, False) == TEXT
    by_copy, by_original = server.seen
    assert by_copy.path == by_original.path
    assert "/publishers/google/models/" in by_copy.path
    assert by_copy.headers["x-goog-api-key"] == "v-key"
    assert tracker.usage.calls == 1


@pytest.mark.skipif(not has_option("client_args"), reason="client_args came in google-genai 1.11")
async def test_the_copy_keeps_the_clients_own_transport(mode: str) -> None:
    import httpx

    through: list[str] = []

    class Counting(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            through.append("sync")
            return super().handle_request(request)

    class AsyncCounting(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            through.append("async")
            return await super().handle_async_request(request)

    with gemini_server() as server:
        tracker = server.tracker()
        options: dict[str, Any] = {
            "base_url": server.url,
            "client_args": {"transport": Counting()},
            "async_client_args": {"transport": AsyncCounting()},
        }
        wrapped = tracker.wrap_google(genai.Client(api_key="g-key", http_options=options))
        assert await ask(wrapped, mode, True) == TEXT
    assert through == [mode]
    assert tracker.records[0].usage == USAGE


async def test_a_copy_made_under_patch_all_reports_to_its_own_tracker(mode: str) -> None:
    """The copy itself is never instrumented by patch_all. patch_all does track the
    original (live clients are instrumented); a copy that keeps the original's
    transport beneath its own tracking (as ``wrap_*`` copies do where the SDK takes
    an http client) is seen by the patch target as well, once."""
    with gemini_server() as server:
        tracker = server.tracker()
        other = TokenTracker(prices=StubBook(), hosts={server.host: "google"})
        original = genai.Client(api_key="g-key", http_options={"base_url": server.url})
        with tokenbudget.patched(other):
            wrapped = tracker.wrap_google(original)
            assert await ask(wrapped, mode, False) == TEXT
    assert len(server.seen) == 1
    # The patch target sees the call too only where the copy keeps the original's
    # transport (sync on 1.46 on); it never sees it twice.
    assert tracker.usage.calls == 1
    assert other.usage.calls in (0, 1)


async def test_a_copy_of_a_copy_is_tracked_once(mode: str) -> None:
    with gemini_server() as server:
        tracker = server.tracker()
        original = genai.Client(api_key="g-key", http_options={"base_url": server.url})
        twice = tracker.wrap_google(tracker.wrap_google(original))
        assert await ask(twice, mode, False) == TEXT
    assert len(server.seen) == 1
    assert tracker.usage.calls == 1


@LEFT_BEHIND
def test_the_copy_works_across_event_loops_wherever_the_original_does() -> None:
    """Pooled connections belong to their loop: the copy pools per loop where the original did."""
    with gemini_server(keep_alive=True) as server:
        tracker = server.tracker()

        def original() -> genai.Client:
            return genai.Client(api_key="g-key", http_options={"base_url": server.url})

        if not across_loops(original):
            pytest.skip("this google-genai shares one async pool between loops itself")
        assert across_loops(lambda: tracker.wrap_google(original()))
    assert tracker.usage.calls == 3


def test_wrap_google_names_what_it_expects() -> None:
    with pytest.raises(TypeError, match=r"google\.genai\.Client"):
        TokenTracker().wrap_google(object())
