"""``stop_streams=True``: a stream whose running cost passes the limit is cut off mid-way."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import openai
import pytest

from tokenbudget import BudgetExceeded, BudgetWarning, TokenLimitReached, budget
from tokenbudget.testing import FakeLLM

from ..loopback import LoopbackServer, chat_chunk, start_response
from .helpers import (
    ANTHROPIC_ESTIMATE,
    ANTHROPIC_MODEL,
    MESSAGES,
    OPENAI_INPUT,
    OPENAI_SNAPSHOT,
    anthropic_client,
    chat,
    micro,
    openai_client,
    tracker,
)

WORDS = 10  # the server sends ten one-token words, then waits for the client to go


class Generator:
    """A route that streams like a model: ten words, then more until the client hangs up."""

    def __init__(self) -> None:
        self.client_gone = threading.Event()
        self.dropped = threading.Event()

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        start_response(handler, {"content-type": "text/event-stream"})
        try:
            for _ in range(WORDS):
                handler.wfile.write(chat_chunk(" word", OPENAI_SNAPSHOT))
                handler.wfile.flush()
            self.client_gone.wait(timeout=10)
            for _ in range(10_000):  # a closed socket fails a write within a few tries
                handler.wfile.write(chat_chunk(" more", OPENAI_SNAPSHOT))
                handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client may go before all ten
            self.dropped.set()
            raise


@pytest.fixture
def server() -> Iterator[tuple[LoopbackServer, Generator]]:
    loopback, route = LoopbackServer(), Generator()
    loopback.routes["/v1/chat/completions"] = route
    with loopback.running():
        yield loopback, route


#: 8 input tokens and 5 output tokens fit exactly: the sixth output token crosses.
LIMIT = micro(OPENAI_INPUT + 2 * 5)


@pytest.mark.parametrize("family", ["httpx", "httpx2"])
def test_a_stream_is_cut_off_and_the_connection_dropped(
    server: tuple[LoopbackServer, Generator], family: str
) -> None:
    loopback, route = server
    tracked = tracker(hosts={loopback.host: "openai"})
    http = tracked.httpx_client(family)
    client = openai.OpenAI(api_key="sk", base_url=loopback.base_url, http_client=http)
    received: list[str | None] = []
    with budget(max_cost_usd=LIMIT, stop_streams=True, name="stream") as ctx:
        stream = chat(client, stream=True)
        with pytest.raises(BudgetExceeded) as stopped:
            for item in stream:
                received.append(item.choices[0].delta.content)
        route.client_gone.set()
        assert route.dropped.wait(timeout=10), "the server saw the client hang up"
    assert stopped.value.reason == "stream" and stopped.value.budget_name == "stream"
    assert len(received) < WORDS
    record = tracked.records[-1]
    assert record.error is not None and record.error.startswith("BudgetExceeded")
    generated = record.usage.output_tokens
    assert 5 < generated <= WORDS and record.usage.estimated
    assert record.cost_usd == micro(OPENAI_INPUT + 2 * generated) == ctx.current_usage.cost_usd
    assert ctx.exceeded and ctx.state.reserved.cost_usd == 0


async def test_an_async_stream_is_cut_off(server: tuple[LoopbackServer, Generator]) -> None:
    loopback, route = server
    tracked = tracker(hosts={loopback.host: "openai"})
    http = tracked.async_httpx_client()
    client = openai.AsyncOpenAI(api_key="sk", base_url=loopback.base_url, http_client=http)
    async with budget(max_tokens=OPENAI_INPUT + 5, stop_streams=True):
        stream = await chat(client, stream=True)
        with pytest.raises(TokenLimitReached):
            async for _ in stream:
                pass
        route.client_gone.set()
        assert route.dropped.wait(timeout=10)
    assert tracked.records[-1].usage.output_tokens > 5


def stream_through_fake(**options: Any) -> tuple[list[str], Any, Any]:
    """Stream a 20-word answer from FakeLLM under ``budget(**options)``."""
    fake = FakeLLM(reply=" ".join(["word"] * 20))
    tracked = tracker()
    client = openai_client(tracked, fake)
    texts: list[str] = []
    with budget(**options) as ctx:
        try:
            for item in chat(client, stream=True):
                if item.choices and item.choices[0].delta.content:
                    texts.append(item.choices[0].delta.content)
        except BudgetExceeded:
            pass
    return texts, ctx, tracked.records[-1]


def test_the_record_holds_what_was_generated() -> None:
    texts, ctx, record = stream_through_fake(max_cost_usd=LIMIT, stop_streams=True)
    assert 0 < len(texts) < 20
    assert record.usage.output_tokens == 6  # FakeLLM sends a word per chunk: cut at the sixth
    assert ctx.current_usage.cost_usd == micro(OPENAI_INPUT + 12)


def test_without_stop_streams_a_stream_runs_to_its_end() -> None:
    texts, ctx, record = stream_through_fake(max_cost_usd=LIMIT)
    assert len(texts) == 20 and record.error is None and ctx.exceeded


def test_on_exceed_warn_lets_a_watched_stream_finish() -> None:
    with pytest.warns(BudgetWarning) as caught:
        texts, _, record = stream_through_fake(
            max_cost_usd=LIMIT, stop_streams=True, on_exceed="warn"
        )
    assert len(texts) == 20 and record.error is None
    said = [str(warning.message) for warning in caught]
    assert said[0].startswith("budget would stop a stream of gpt-4o-mini after ~6 output tokens:")
    assert said[0].endswith("; the stream goes on (on_exceed='warn')")
    assert said[1] == (
        "budget was crossed by a call to gpt-4o-mini ($0.000048 spent of $0.000018); "
        "later calls are still sent (on_exceed='warn')"
    )
    assert len(said) == 2


def test_a_clamped_stream_ends_within_the_limit_and_is_not_cut() -> None:
    fake = FakeLLM(reply=" ".join(["word"] * 20))
    tracked = tracker()
    client = openai_client(tracked, fake)
    with budget(
        max_cost_usd=LIMIT, preflight="clamp", stop_streams=True, min_output_tokens=1
    ) as ctx:
        chunks = list(chat(client, stream=True, max_tokens=99))
    assert fake.last_request is not None and fake.last_request.body["max_tokens"] == 5
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) == 5
    assert tracked.records[-1].error is None
    assert ctx.current_usage.cost_usd == LIMIT


def test_an_anthropic_stream_is_cut_mid_way() -> None:
    """The Anthropic reader keeps its text current for a watching budget: cut like OpenAI's."""
    fake = FakeLLM(reply=" ".join(["word"] * 20))
    tracked = tracker()
    client = anthropic_client(tracked, fake)
    texts: list[str] = []
    with budget(max_cost_usd=micro(ANTHROPIC_ESTIMATE + 10), stop_streams=True) as ctx:
        with pytest.raises(BudgetExceeded):  # noqa: SIM117
            with client.messages.stream(
                model=ANTHROPIC_MODEL, max_tokens=100, messages=MESSAGES
            ) as stream:
                texts.extend(stream.text_stream)
        assert ctx.exceeded
    assert 0 < len(texts) < 20
    record = tracked.records[-1]
    assert record.error is not None and record.usage.output_tokens < 20


def test_a_gemini_stream_is_cut_mid_way() -> None:
    """Gemini streams repeat cumulative usage; the running count still stops them mid-way."""
    from google import genai
    from google.genai import types

    fake = FakeLLM(reply=" ".join(["word"] * 20))
    tracked = tracker()
    options = types.HttpOptions(httpx_client=tracked.httpx_client(transport=fake))
    client = genai.Client(api_key="g-test", http_options=options)
    texts: list[str] = []
    # gemini-2.5-flash: $0.30 in / $2.50 out per 1M: a few dozen tokens fit, 20 words do not.
    with budget(max_cost_usd="0.00003", stop_streams=True) as ctx:
        with pytest.raises(BudgetExceeded):
            for part in client.models.generate_content_stream(
                model="gemini-2.5-flash", contents="Tell me a story"
            ):
                texts.append(part.text or "")
        assert ctx.exceeded
    assert 0 < len(texts) < 20
    assert tracked.records[-1].error is not None
