"""The plugin's parts without pytester: keys, recordings, options, results, patching."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest

import tokenbudget
from tokenbudget import TokenTracker, UsageSummary
from tokenbudget.cache import CacheEntry, CacheKeyer, StoredResponse
from tokenbudget.providers import RequestView
from tokenbudget.pytest_plugin import FileBackend, RunOptions, TestCost, TokenbudgetOptions
from tokenbudget.pytest_plugin._patch import ClientPatch
from tokenbudget.pytest_plugin._results import total
from tokenbudget.pytest_plugin._wording import ModelCost, by_model, call_lines, top_models

from ..support import record

BODY = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}).encode()


def view(headers: dict[str, str], body: bytes = BODY, query: str = "") -> RequestView:
    return RequestView(
        "POST", "api.openai.com", "/v1/chat/completions", query=query, headers=headers, body=body
    )


# -- keys without the account ---------------------------------------------------------------


def test_keys_shared_between_accounts_ignore_credentials_and_account_headers() -> None:
    shared = CacheKeyer(b"one", per_account=False)
    other_secret = CacheKeyer(b"two", per_account=False)
    first = view({"authorization": "Bearer sk-live", "openai-organization": "org-a"}, query="key=1")
    second = view({"authorization": "Bearer sk-fake", "openai-project": "proj-b"}, query="key=2")
    assert shared.key(first) == shared.key(second) == other_secret.key(view({}, query="key=3"))
    assert shared.key(view({}, body=BODY.replace(b"Hi", b"Ho"))) != shared.key(view({}))
    assert shared.key(view({"openai-beta": "assistants=v2"})) != shared.key(view({}))


def test_keys_stay_per_account_by_default() -> None:
    keyer = CacheKeyer(b"one")
    assert keyer.key(view({"authorization": "Bearer a"})) != keyer.key(view({"authorization": "b"}))
    org = view({"openai-organization": "org-a"})
    assert keyer.key(org) != keyer.key(view({}))


# -- the recording directory ----------------------------------------------------------------


def entry() -> CacheEntry:
    answer = StoredResponse(200, (("content-type", "application/json"),), b'{"ok": true}')
    return CacheEntry(answer, created_at=1.0, provider="openai", model="gpt-4o", input_tokens=3)


def test_file_backend_keeps_one_entry_file_per_key(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "rec")
    key = "a" * 64
    assert backend.get(key) is None and len(backend) == 0
    backend.set(key, entry())
    assert backend.get(key) == entry()
    assert (tmp_path / "rec" / f"{key}.tbc").read_bytes() == entry().to_bytes()
    (tmp_path / "rec" / "README").write_text("mine")
    backend.set("b" * 64, entry())
    assert len(backend) == 2
    backend.delete(key)
    assert backend.get(key) is None
    backend.clear()
    assert [path.name for path in (tmp_path / "rec").iterdir()] == ["README"]


def test_file_backend_refuses_what_is_not_a_key_or_an_entry(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path)
    with pytest.raises(ValueError, match="not a cache key"):
        backend.set("../escape", entry())
    (tmp_path / f"{'c' * 64}.tbc").write_bytes(b"garbage")
    assert backend.get("c" * 64) is None


# -- options ----------------------------------------------------------------------------------


def test_marker_options_are_checked_and_described() -> None:
    options = TokenbudgetOptions.from_marker((), {"max_cost_usd": 0.1, "max_calls": 3})
    assert options.max_cost_usd == Decimal("0.1") and options.max_tokens is None
    assert options.limited
    assert options.as_dict() == {"max_cost_usd": "0.1", "max_tokens": None, "max_calls": 3}
    assert not TokenbudgetOptions().limited
    with pytest.raises(ValueError, match="max_tokens must be a non-negative int, not True"):
        TokenbudgetOptions.from_marker((), {"max_tokens": True})


def test_run_options_paths_are_absolute_and_say_the_mode(tmp_path: Path) -> None:
    (tmp_path / "rec").mkdir()
    options = RunOptions.from_values(base=tmp_path, replay="rec", json_path="out/u.json")
    assert options.mode == "replay"
    assert options.recording_dir == tmp_path / "rec"
    assert options.json_path == tmp_path / "out" / "u.json"
    assert RunOptions.from_values(base=tmp_path, record="rec").mode == "record"
    assert RunOptions.from_values(base=tmp_path, max_cost="0.5").max_cost_usd == Decimal("0.5")
    assert RunOptions().mode == "live"


# -- results ----------------------------------------------------------------------------------


def test_models_are_ranked_by_cost_and_replayed_calls_count_their_recorded_cost() -> None:
    records = [
        record("a", 10, 5, "0.1"),
        record("b", 10, 5, "0", cached=True, saved="0.5"),
        record("a", 10, 5, "0.1"),
    ]
    assert by_model(records, replaying=False) == {
        "a": ModelCost(2, 30, Decimal("0.2")),
        "b": ModelCost(1, 15, Decimal(0)),
    }
    replayed = by_model(records, replaying=True)
    assert list(replayed) == ["b", "a"]
    assert top_models(replayed, limit=1) == "b $0.5, and 1 more"
    lines = call_lines([record("a", 10, 5, None)] * 12, replaying=False)
    assert lines[0] == "  1. openai a chat: 10 in + 5 out tokens, unpriced"
    assert lines[-1] == "  ... and 2 more" and len(lines) == 11


def test_a_result_round_trips_through_its_dict() -> None:
    usage = UsageSummary(calls=2, input_tokens=20, output_tokens=10, cost_usd=Decimal("0.25"))
    result = TestCost(
        nodeid="t.py::test",
        usage=usage,
        cost_usd=Decimal("0.25"),
        outcome="passed",
        models={"gpt-4o": ModelCost(2, 30, Decimal("0.25"))},
        limits={"max_cost_usd": "1", "max_tokens": None, "max_calls": None},
        worker="gw1",
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert TestCost.from_dict(data) == result
    both = total([result, result])
    assert both.calls == 4 and both.cost_usd == Decimal("0.5")
    assert both.models == {"gpt-4o": ModelCost(4, 60, Decimal("0.5"))}


# -- the plugin's hold on client construction ---------------------------------------------------


def test_client_patch_tracks_new_clients_until_removed() -> None:
    tracker = TokenTracker()
    patch = ClientPatch(tracker)
    original = httpx2.Client.__init__
    patch.install()
    patch.install()  # idempotent
    try:
        tracked = httpx2.Client(transport=httpx2.MockTransport(lambda request: None))
        assert tracked._transport.tracker is tracker
    finally:
        patch.remove()
    assert httpx2.Client.__init__ is original
    plain = httpx2.Client(transport=httpx2.MockTransport(lambda request: None))
    assert not hasattr(plain._transport, "tracker")


def test_client_patch_goes_beneath_the_trackers_already_there() -> None:
    tracker, app = TokenTracker(), TokenTracker()
    mock = httpx2.MockTransport(lambda request: None)
    patch = ClientPatch(tracker)
    patch.install()
    try:
        client = httpx2.Client(transport=app.transport(mock), mounts={"http://x": mock})
        again = httpx2.Client(transport=client._transport)  # the same chain: not wrapped twice
    finally:
        patch.remove()
    assert client._transport.tracker is app
    assert client._transport.inner.tracker is tracker and client._transport.inner.inner is mock
    assert again._transport is client._transport
    assert [t.tracker for t in client._mounts.values()] == [tracker]


def test_client_patch_left_under_another_wrapper_goes_inactive() -> None:
    tracker, app = TokenTracker(), TokenTracker()
    patch = ClientPatch(tracker)
    original = httpx2.Client.__init__
    patch.install()
    tokenbudget.patch_all(app)  # wraps the plugin's wrapper
    try:
        both = httpx2.Client(transport=httpx2.MockTransport(lambda request: None))
        assert both._transport.tracker is app and both._transport.inner.tracker is tracker
        patch.remove()  # cannot unwrap from under patch_all: stops tracking instead
        only_app = httpx2.Client(transport=httpx2.MockTransport(lambda request: None))
        assert not hasattr(only_app._transport.inner, "tracker")
    finally:
        tokenbudget.unpatch_all()
        patch.remove()
        httpx2.Client.__init__ = original  # type: ignore[method-assign]
