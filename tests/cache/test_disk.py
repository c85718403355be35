"""The disk backend: survives restarts, shared by processes, expires, keeps no credential."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tokenbudget import TokenTracker
from tokenbudget.cache import CacheEntry, CallCache, DiskBackend, StoredResponse
from tokenbudget.cache._disk import SECRET_NAME, load_secret
from tokenbudget.testing import FakeLLM

from .helpers import CASES, KEYS, make_sdk

ROOT = Path(__file__).resolve().parents[2]


def entry(body: bytes = b'{"id":"x"}', expires: float | None = None) -> CacheEntry:
    response = StoredResponse(200, (("content-type", "application/json"),), body)
    return CacheEntry(response, created_at=1.0, expires_at=expires, provider="openai")


def test_entries_survive_a_restart(tmp_path: Path) -> None:
    first = DiskBackend(tmp_path)
    first.set("k", entry())
    first.close()

    second = DiskBackend(tmp_path)
    assert second.get("k") == entry()
    assert second.secret == first.secret and len(second) == 1
    second.close()


def test_the_secret_file(tmp_path: Path) -> None:
    backend = DiskBackend(tmp_path / "a")
    path = tmp_path / "a" / SECRET_NAME
    assert path.read_bytes() == backend.secret and len(backend.secret) == 32
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert DiskBackend(tmp_path / "b").secret != backend.secret
    assert load_secret(tmp_path / "a") == backend.secret
    assert [p.name for p in (tmp_path / "a").iterdir() if p.name.startswith(".")] == []


def test_a_damaged_secret_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / SECRET_NAME).write_bytes(b"short")
    with pytest.raises(ValueError, match="delete the cache directory"):
        DiskBackend(tmp_path)


def test_clear_keeps_the_secret(tmp_path: Path) -> None:
    backend = DiskBackend(tmp_path)
    secret = backend.secret
    backend.set("k", entry())
    backend.clear()
    assert len(backend) == 0 and backend.get("k") is None
    assert DiskBackend(tmp_path).secret == secret


def test_damaged_or_pickled_values_are_misses_and_dropped(tmp_path: Path) -> None:
    backend = DiskBackend(tmp_path)
    backend._store.set("damaged", b"TBC1\x00\x00\x00\x09not json!")
    backend._store.set("pickled", {"a": "dict is pickled by diskcache"})
    assert backend.get("damaged") is None and backend.get("pickled") is None
    assert len(backend) == 0


def test_ttl_is_also_given_to_diskcache(tmp_path: Path) -> None:
    backend = DiskBackend(tmp_path)
    backend.set("k", entry(), ttl=60)
    _, expire_time = backend._store.get("k", expire_time=True)
    assert expire_time is not None


def test_a_clear_error_without_diskcache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "diskcache", None)
    with pytest.raises(ImportError, match=r'pip install "tokenbudget\[disk\]"'):
        TokenTracker(cache="disk", cache_dir=tmp_path)


def test_default_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOKENBUDGET_CACHE_DIR", str(tmp_path / "here"))
    tracker = TokenTracker(cache="disk")
    assert isinstance(tracker.cache, CallCache)
    backend = tracker.cache.backend
    assert isinstance(backend, DiskBackend) and backend.directory == tmp_path / "here"
    monkeypatch.delenv("TOKENBUDGET_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    from tokenbudget.cache import default_cache_dir

    assert default_cache_dir() == tmp_path / "xdg" / "tokenbudget"


# -- through the SDKs ---------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, sys
    import openai
    from tokenbudget import TokenTracker
    from tokenbudget.testing import FakeLLM

    directory, stream = sys.argv[1], sys.argv[2] == "stream"
    fake = FakeLLM(reply="Paris, from another process.")
    tracker = TokenTracker(cache="disk", cache_dir=directory)
    client = openai.OpenAI(api_key="sk-shared", http_client=tracker.httpx_client(transport=fake))
    made = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Capital?"}], stream=stream
    )
    answer = [c.model_dump() for c in made] if stream else made.model_dump()
    print(json.dumps({"answer": answer, "server_calls": fake.calls,
                      "cached": tracker.last_record.cached}))
    """
)


def run_child(directory: Path, stream: bool) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(directory), "stream" if stream else "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_hit_from_another_process(tmp_path: Path, stream: bool) -> None:
    written = run_child(tmp_path, stream)
    assert (written["server_calls"], written["cached"]) == (1, False)

    # This process reads what the child wrote ...
    tracker = TokenTracker(cache="disk", cache_dir=tmp_path)
    sdk = make_sdk("openai", "httpx2", "sync", tracker, api_key="sk-shared")
    answer = await sdk.call("Capital?", stream=stream)
    assert sdk.fake.calls == 0 and tracker.last_record is not None
    assert tracker.last_record.cached
    assert json.loads(json.dumps(answer)) == written["answer"]

    # ... and a second child reads it again, never reaching its server.
    again = run_child(tmp_path, stream)
    assert (again["server_calls"], again["cached"]) == (0, True)
    assert again["answer"] == written["answer"]


async def test_ttl_expiry_on_disk_with_an_injected_clock(tmp_path: Path) -> None:
    now = [5_000.0]
    cache = CallCache(DiskBackend(tmp_path), ttl=30, clock=lambda: now[0])
    sdk = make_sdk("openai", "httpx2", "sync", TokenTracker(cache=cache))
    first = await sdk.call(stream=True)
    now[0] += 29
    assert await sdk.call(stream=True) == first and sdk.fake.calls == 1
    now[0] += 1
    assert await sdk.call(stream=True) != first and sdk.fake.calls == 2
    # the expired entry was replaced by the fresh answer
    assert len(cache.backend) == 1


def all_bytes(directory: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in directory.rglob("*") if path.is_file()]


@pytest.mark.parametrize(("sdk_name", "family"), CASES)
async def test_no_api_key_in_any_file_of_the_disk_cache(
    tmp_path: Path, sdk_name: str, family: str
) -> None:
    tracker = TokenTracker(cache="disk", cache_dir=tmp_path)
    for mode in ("sync", "async"):
        sdk = make_sdk(sdk_name, family, mode, tracker)
        for stream in (False, True):
            await sdk.call(f"question in {mode}", stream=stream)
            await sdk.call(f"question in {mode}", stream=stream)
    assert tracker.cache_stats.hits == 4 and tracker.cache_stats.entries == 4
    tracker.cache.close()  # type: ignore[union-attr]  # flush SQLite's write-ahead log

    secret = KEYS[sdk_name].encode()
    needles = [secret, hashlib.sha256(secret).hexdigest().encode(), hashlib.sha256(secret).digest()]
    files = all_bytes(tmp_path)
    assert len(files) >= 2
    for path, data in files:
        for needle in needles:
            assert needle not in data, f"{needle!r} found in {path}"


def test_no_gemini_query_key_in_any_file(tmp_path: Path) -> None:
    """Gemini also takes the API key as ``?key=``: it is a credential, never stored."""
    tracker = TokenTracker(cache="disk", cache_dir=tmp_path)
    fake = FakeLLM(reply="Paris.")
    client = tracker.httpx_client(transport=fake)
    url = (
        "https://generativelanguage.googleapis.com/v1beta/models/"
        "gemini-2.5-flash:streamGenerateContent"
    )
    body = {"contents": [{"role": "user", "parts": [{"text": "Capital?"}]}]}

    def ask(key: str) -> bytes:
        response = client.post(url, params={"alt": "sse", "key": key}, json=body)
        assert response.status_code == 200
        return bytes(response.content)

    first = ask("AIzaQUERYSECRET1")
    assert ask("AIzaQUERYSECRET1") == first and fake.calls == 1
    ask("AIzaQUERYSECRET2")
    assert fake.calls == 2
    tracker.cache.close()  # type: ignore[union-attr]
    for path, data in all_bytes(tmp_path):
        assert b"QUERYSECRET" not in data, path
    assert isinstance(client, httpx2.Client)
