"""Processes sharing a disk cache, and caches that cross ``fork``.

Four processes ask the same 300 questions (two in order, two in reverse, so
they meet on every key at some point) through one disk cache folder: a real
loopback server counts exactly 300 calls. A memory and a disk cache created
before ``fork`` keep working in the forked children and in the parent.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openai
import pytest

from tokenbudget import TokenTracker
from tokenbudget.cache import CallCache, MemoryBackend
from tokenbudget.testing import FakeLLM

from ..support import fixture_json
from .workers import KEYS, ask_all

PROCESSES = 4


class CountingServer:
    """A loopback OpenAI chat server: answers each question with its number, keeps what it saw."""

    def __init__(self) -> None:
        self.asked: list[bytes] = []
        answers = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                number = re.findall(rb"Question number (\d+)", body)[0]
                answers.asked.append(number)  # list.append is atomic
                chat = fixture_json("openai/chat.json")
                chat["choices"][0]["message"]["content"] = f"Answer {number.decode()}."
                payload = json.dumps(chat).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self._httpd.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[None]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join(5)


def test_processes_sharing_a_disk_cache_call_once_per_distinct_request(tmp_path: Path) -> None:
    server = CountingServer()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    with server.running():
        workers = [
            context.Process(target=ask_all, args=(str(tmp_path), server.host, index % 2, start))
            for index in range(PROCESSES)
        ]
        for process in workers:
            process.start()
        for process in workers:
            process.join(300)
        assert [process.exitcode for process in workers] == [0] * PROCESSES

    asked = server.asked
    assert len(asked) == KEYS == len(set(asked)), "each distinct request reached the server once"


def fork_and_run(child: Callable[[], None]) -> int:
    """Run ``child`` in a real forked process; its exit status (0: it returned)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            child()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_a_cache_made_before_fork_keeps_working_in_children_and_parent(
    cache: str, tmp_path: Path
) -> None:
    tracker = TokenTracker(cache=cache, cache_dir=tmp_path if cache == "disk" else None)
    fake = FakeLLM(reply="Paris.")
    client = openai.OpenAI(
        api_key="sk-one", http_client=tracker.httpx_client(transport=fake), max_retries=0
    )

    def ask(text: str) -> str:
        made = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": text}]
        )
        return made.id

    before = ask("asked before the fork")

    def child(number: int) -> Callable[[], None]:
        def run() -> None:
            assert ask("asked before the fork") == before, "a hit on what the parent stored"
            fresh = ask(f"asked in child {number}")
            assert ask(f"asked in child {number}") == fresh, "the child stores and hits"
            assert tracker.cache_stats.hits == 2
            assert fake.calls == 2  # the child's copy of the fake: one call before, one here

        return run

    assert [fork_and_run(child(number)) for number in range(2)] == [0, 0]
    assert ask("asked before the fork") == before
    assert fake.calls == 1
    if cache == "disk":  # the children's answers are in the shared folder: the parent hits them
        ask("asked in child 0")
        ask("asked in child 1")
        assert fake.calls == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_memory_cache_locked_by_another_thread_at_fork_works_in_the_child() -> None:
    """A unit test of the backend alone: its lock is held by a thread that does not fork."""
    cache = CallCache(MemoryBackend())
    backend = cache.backend
    assert isinstance(backend, MemoryBackend)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with backend._lock:  # what a concurrent get() does, caught at the wrong moment
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(60)
    try:

        def child() -> None:
            done = threading.Event()
            threading.Thread(target=lambda: (backend.get("k"), done.set()), daemon=True).start()
            assert done.wait(30), "the child's cache is stuck on the parent's lock"
            assert cache.stats().hits == 0

        assert fork_and_run(child) == 0
    finally:
        release.set()
        holder.join(60)
