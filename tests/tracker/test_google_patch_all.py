"""``patch_all()`` with google-genai: its async calls are tracked even with aiohttp installed.

google-genai (1.21 to 3.x) sends async calls through aiohttp when it is installed, and
litellm, pydantic-ai and instructor all install it; ``patch_all`` makes it use its own
(tracked) httpx client instead. Version-neutral, like ``test_google_wrap``: without
aiohttp these tests still check that every call is tracked once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from google import genai

import tokenbudget

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

pytestmark = pytest.mark.filterwarnings(
    # google-genai 3.x subclasses aiohttp's ClientSession, which aiohttp 3.14 frowns on;
    # here only an unpatched client goes through aiohttp.
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)

STREAM = pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
ROOT = Path(__file__).resolve().parents[2]


@STREAM
async def test_every_call_of_a_client_built_under_patch_all_is_tracked(
    mode: str, stream: bool
) -> None:
    with gemini_server() as server:
        tracker = server.tracker()
        with tokenbudget.patched(tracker):
            client = genai.Client(api_key="g-key", http_options={"base_url": server.url})
            assert await ask(client, mode, stream) == TEXT
    assert len(server.seen) == 1, "the call reached the server once"
    assert server.seen[0].headers["x-goog-api-key"] == "g-key"
    (record,) = tracker.records
    assert (record.provider, record.model, record.stream) == ("google", MODEL, stream)
    assert record.usage == USAGE
    assert record.cost_usd == COST


async def test_unpatch_all_gives_google_genai_back_its_own_choice() -> None:
    from google.genai import _api_client

    api_class = getattr(_api_client, "BaseApiClient", None) or _api_client.ApiClient  # 1.0
    before = dict(vars(api_class)), _api_client.__dict__.get("has_aiohttp")
    with gemini_server() as server:
        tracker = server.tracker()
        with tokenbudget.patched(tracker):
            pass
        client = genai.Client(api_key="g-key", http_options={"base_url": server.url})
        assert await ask(client, "async", False) == TEXT
    after = dict(vars(api_class)), _api_client.__dict__.get("has_aiohttp")
    assert after == before
    assert len(server.seen) == 1
    assert tracker.usage.calls == 0


def test_patch_all_hooks_google_genai_imported_after_it() -> None:
    """In a fresh process: patch_all first, google-genai imported later, async call tracked."""
    script = f"""
import asyncio, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
sys.path.insert(0, {str(ROOT)!r})
import tokenbudget
from tests.gemini_loopback import ask, gemini_server
with gemini_server() as server:
    tracker = server.tracker()
    tokenbudget.patch_all(tracker)
    assert "google.genai" not in sys.modules, "patch_all imported google-genai"
    from google import genai
    client = genai.Client(api_key="g-key", http_options={{"base_url": server.url}})
    asyncio.run(ask(client, "async", False))
    tokenbudget.unpatch_all()
    print(tracker.usage.calls, len(server.seen))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1"], "tracked once, sent once"


async def test_a_client_built_under_patch_all_keeps_httpx_after_unpatch_all() -> None:
    with gemini_server() as server:
        tracker = server.tracker()
        with tokenbudget.patched(tracker):
            client = genai.Client(api_key="g-key", http_options={"base_url": server.url})
        assert await ask(client, "async", True) == TEXT
    assert len(server.seen) == 1


@pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)
def test_a_patched_client_works_across_event_loops_wherever_an_unpatched_one_does() -> None:
    with gemini_server(keep_alive=True) as server:
        tracker = server.tracker()

        def client() -> genai.Client:
            return genai.Client(api_key="g-key", http_options={"base_url": server.url})

        if not across_loops(client):
            pytest.skip("this google-genai shares one async pool between loops itself")
        with tokenbudget.patched(tracker):
            assert across_loops(client)
    assert tracker.usage.calls == 3


@pytest.mark.skipif(not has_option("aiohttp_client"), reason="aiohttp_client came in 1.60")
async def test_an_aiohttp_session_given_to_google_genai_is_bypassed_and_tracked() -> None:
    aiohttp = pytest.importorskip("aiohttp")
    with gemini_server() as server:
        tracker = server.tracker()
        async with aiohttp.ClientSession() as session:
            with tokenbudget.patched(tracker):
                options = {"base_url": server.url, "aiohttp_client": session}
                client = genai.Client(api_key="g-key", http_options=options)
                assert await ask(client, "async", False) == TEXT
    assert len(server.seen) == 1
    assert tracker.records[0].usage == USAGE
