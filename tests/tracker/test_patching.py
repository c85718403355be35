"""``patch_all``: every httpx client built while it is on is tracked, once; unpatching restores."""

from __future__ import annotations

import pytest

import tokenbudget
from tokenbudget import TokenTracker

from ..support import StubBook, json_answer, mock_transport, sync_client

CHAT_URL = "https://api.openai.com/v1/chat/completions"
CHAT_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture
def tracker() -> TokenTracker:
    return TokenTracker(prices=StubBook())


def test_patch_all_is_idempotent_and_unpatch_restores() -> None:
    import httpx
    import httpx2

    originals = {cls: cls.__init__ for cls in (httpx.Client, httpx.AsyncClient, httpx2.Client)}
    tracker = TokenTracker(prices=StubBook())
    try:
        tokenbudget.patch_all(tracker)
        tokenbudget.patch_all(tracker)
        assert tokenbudget.is_patched()
        client = httpx2.Client(transport=mock_transport("httpx2", json_answer("httpx2")))
        assert type(client._transport).__name__ == "TrackingTransport"
        assert type(client._transport.inner).__name__ == "MockTransport", "wrapped once"
        mounted = httpx.Client(mounts={"https://": httpx.HTTPTransport()})
        assert all(type(t).__name__ == "TrackingTransport" for t in mounted._mounts.values() if t)
        client.post(CHAT_URL, json=CHAT_BODY)
        assert tracker.usage.calls == 1
    finally:
        tokenbudget.unpatch_all()
        tokenbudget.unpatch_all()
    assert not tokenbudget.is_patched()
    assert {cls: cls.__init__ for cls in originals} == originals
    plain = httpx2.Client(transport=mock_transport("httpx2", json_answer("httpx2")))
    assert type(plain._transport).__name__ == "MockTransport"


def test_patch_all_defaults_to_the_process_tracker() -> None:
    import httpx2

    try:
        target = tokenbudget.patch_all()
        assert target is tokenbudget.get_tracker()
        before = target.usage.calls
        client = httpx2.Client(transport=mock_transport("httpx2", json_answer("httpx2")))
        client.post(CHAT_URL, json=CHAT_BODY)
        assert target.usage.calls == before + 1
    finally:
        tokenbudget.unpatch_all()


def test_tracker_client_is_not_tracked_twice_under_patch_all(tracker: TokenTracker) -> None:
    other = TokenTracker(prices=StubBook())
    with tokenbudget.patched(other):
        client = sync_client(tracker, "httpx2", json_answer("httpx2"))
        client.post(CHAT_URL, json=CHAT_BODY)
    assert (tracker.usage.calls, other.usage.calls) == (1, 0)
