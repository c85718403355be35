"""A disk entry that was damaged or rewritten is a miss, never an error or another answer.

The disk cache is a folder of files another process (or person) could change.
Whatever happened to an entry's bytes, the next identical call through the real
openai SDK either gets exactly the answer that was stored, or is sent to the
provider and gets a fresh one; nothing raises into the app. Entries are read
back through diskcache itself, as an attacker with write access would.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import diskcache
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM

from ..support import collect

MESSAGES = [{"role": "user", "content": "Capital of France?"}]
Mutation = Callable[[bytes], bytes]


class Setup:
    """A tracker with a disk cache over a fake server, and the stored entry's raw bytes."""

    def __init__(
        self, directory: Path, stream: bool, reply: str = "Paris is the capital of France."
    ) -> None:
        self.tracker = TokenTracker(cache="disk", cache_dir=directory)
        self.fake = FakeLLM(reply=reply)
        self.stream = stream
        self.client = openai.OpenAI(
            api_key="sk-one",
            http_client=self.tracker.httpx_client(transport=self.fake),
            max_retries=0,
        )
        self.raw = diskcache.Cache(str(directory / "responses"))
        self.original = self.ask()
        (self.key,) = list(self.raw.iterkeys())
        self.stored: bytes = self.raw.get(self.key)

    def ask(self) -> Any:
        made = self.client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=self.stream
        )
        if self.stream:
            return [chunk.model_dump() for chunk in made]
        return made.model_dump()

    def write(self, data: bytes) -> None:
        self.raw.set(self.key, data)

    def check(self, data: bytes) -> None:
        """Store ``data`` as the entry; the next call is a clean miss or the stored answer."""
        self.write(data)
        calls = self.fake.calls
        answer = self.ask()
        if self.fake.calls == calls:
            assert answer == self.original, "a replay is the stored answer, byte for byte"
        else:
            assert answer != self.original, "a miss gets the provider's fresh answer"
        self.write(self.stored)

    def close(self) -> None:
        self.raw.close()


@pytest.fixture(params=[False, True], ids=["json", "stream"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    made = Setup(tmp_path, request.param)
    yield made
    made.close()


def mutations(size: int) -> st.SearchStrategy[Mutation]:
    index = st.integers(0, size - 1)

    def flip(at: int, mask: int) -> Mutation:
        return lambda data: data[:at] + bytes([data[at] ^ mask]) + data[at + 1 :]

    def cut(at: int) -> Mutation:
        return lambda data: data[:at]

    def extend(extra: bytes) -> Mutation:
        return lambda data: data + extra

    def splice(at: int, length: int, extra: bytes) -> Mutation:
        return lambda data: data[:at] + extra + data[at + length :]

    return st.one_of(
        st.builds(flip, index, st.integers(1, 255)),
        st.builds(cut, index),
        st.builds(extend, st.binary(min_size=1, max_size=64)),
        st.builds(splice, index, st.integers(0, 40), st.binary(max_size=40)),
    )


def test_any_mutation_of_a_stored_entry_is_a_miss_or_the_same_answer(setup: Setup) -> None:
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(mutation=mutations(len(setup.stored)))
    def check(mutation: Mutation) -> None:
        setup.check(mutation(setup.stored))

    check()


def rewritten(stored: bytes, change: Callable[[dict[str, Any], bytes], bytes]) -> bytes:
    """``stored`` rebuilt with its JSON head edited by ``change`` (which returns the body).

    The head is found by its first field and the body follows it, as in every
    format the cache wrote; the result is a well-formed but unsealed entry.
    """
    text = stored.decode("latin-1")
    start = text.index('{"status"')
    head, end = json.JSONDecoder().raw_decode(text, start)
    body = change(head, stored[end:])
    encoded = json.dumps(head).encode()
    return b"TBC1" + len(encoded).to_bytes(4, "big") + encoded + body


def set_status(value: Any) -> Callable[[dict[str, Any], bytes], bytes]:
    def change(head: dict[str, Any], body: bytes) -> bytes:
        head["status"] = value
        return body

    return change


def add_header(name: str, value: str) -> Callable[[dict[str, Any], bytes], bytes]:
    def change(head: dict[str, Any], body: bytes) -> bytes:
        head["headers"].append([name, value])
        return body

    return change


@pytest.mark.parametrize(
    "change",
    [
        set_status(999),
        set_status(-1),
        set_status(500),
        set_status(True),
        add_header("x-evil", "line\r\nset-cookie: a=b"),
        add_header("bad name", "x"),
        add_header("x-wide", "\u2603"),
        lambda head, body: body.replace(b"Paris", b"Rome!"),
        lambda head, body: b"data: " + b"x" * 70 + b"\n\n" if head["stream"] else b"{}",
    ],
    ids=[
        "status-999",
        "status-minus-1",
        "status-500",
        "status-bool",
        "header-injection",
        "header-name",
        "header-not-latin-1",
        "body-rewritten",
        "body-replaced",
    ],
)
def test_a_rewritten_entry_is_a_miss(setup: Setup, change: Any) -> None:
    setup.check(rewritten(setup.stored, change))


def test_a_damaged_entry_is_logged_once_and_evicted(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tokenbudget")
    damaged = setup.stored[:-1] + bytes([setup.stored[-1] ^ 1])
    setup.write(damaged)
    setup.ask()
    assert setup.raw.get(setup.key) != damaged, "evicted (and replaced by the fresh answer)"
    setup.write(damaged)
    setup.ask()
    warnings = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert len(warnings) == 1
    assert setup.key not in warnings[0].getMessage(), "no key or secret in the log"


def test_an_entry_sealed_in_another_cache_folder_is_a_miss(tmp_path: Path) -> None:
    one = Setup(tmp_path / "one", stream=False)
    two = Setup(tmp_path / "two", stream=False, reply="Rome is the capital of Italy.")
    two.check(one.stored)
    one.close()
    two.close()


async def test_a_damaged_stream_never_raises_into_an_async_app(tmp_path: Path) -> None:
    tracker = TokenTracker(cache="disk", cache_dir=tmp_path)
    fake = FakeLLM(reply="Paris.")
    client = openai.AsyncOpenAI(
        api_key="sk-one", http_client=tracker.async_httpx_client(transport=fake), max_retries=0
    )
    first = await collect(
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    )
    raw = diskcache.Cache(str(tmp_path / "responses"))
    (key,) = list(raw.iterkeys())
    raw.set(key, rewritten(raw.get(key), lambda head, body: b"data: {not json\n\n" + body))
    second = await collect(
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    )
    assert fake.calls == 2
    assert [c.model_dump() for c in second] != [c.model_dump() for c in first]
    raw.close()
