"""google-genai 1.0-1.5 send through ``requests``: tracked under ``patch_all()``, against loopback.

google-genai 1.0-1.2 send every call through a ``requests.Session`` built per
call (async calls: the sync path in a thread); 1.3-1.5 their sync calls (their
async calls go through a fresh ``httpx.AsyncClient``). These tests drive the
real SDK against a real server on 127.0.0.1 and compare the records with what
the server sent. They belong to the compatibility runs, each in a venv with
``google-genai==1.0.0`` or ``1.5.0``; with google-genai >= 1.6 installed (which
sends through httpx) they are skipped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pytest

import tokenbudget
from tokenbudget import BudgetExceeded, TokenTracker, calculate_cost

from ..loopback import LoopbackServer, start_response


def _genai_version() -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version("google-genai").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return ()


GENAI = _genai_version()
pytestmark = [
    pytest.mark.skipif(
        not GENAI or GENAI >= (1, 6),
        reason="google-genai 1.0-1.5 only (they send through requests); run in the compat venvs",
    ),
    # google-genai 1.0 itself calls pydantic's deprecated ``.dict()``.
    pytest.mark.filterwarnings("ignore:The `dict` method is deprecated:DeprecationWarning"),
]

MODEL = "gemini-2.0-flash"
BILLED = "gemini-2.0-flash-001"  # the modelVersion the server answers with
PROMPT, OUTPUT = 11, 7
#: Cumulative usage of the three events of a stream (the last one is the call's).
STREAM_USAGE = [(11, 2), (11, 5), (11, 9)]
BASE = "/v1beta/models/gemini-2.0-flash"


def _answer(text: str, prompt: int, output: int, finish: bool = True) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if finish:
        candidate["finishReason"] = "STOP"
    return {
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": prompt,
            "candidatesTokenCount": output,
            "totalTokenCount": prompt + output,
        },
        "modelVersion": BILLED,
    }


def _json_route(handler: BaseHTTPRequestHandler) -> None:
    body = json.dumps(_answer("Paris.", PROMPT, OUTPUT)).encode()
    start_response(handler, {"content-type": "application/json", "content-length": str(len(body))})
    handler.wfile.write(body)


def _sse_route(handler: BaseHTTPRequestHandler) -> None:
    start_response(handler, {"content-type": "text/event-stream"})
    last = len(STREAM_USAGE) - 1
    for index, (prompt, output) in enumerate(STREAM_USAGE):
        event = _answer(f"part {index} ", prompt, output, finish=index == last)
        handler.wfile.write(b"data: " + json.dumps(event).encode() + b"\r\n\r\n")
        handler.wfile.flush()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    server.routes[f"{BASE}:generateContent"] = _json_route
    server.routes[f"{BASE}:streamGenerateContent"] = _sse_route
    with server.running():
        yield server


def _client(server: LoopbackServer) -> Any:
    from google import genai

    return genai.Client(api_key="test-key", http_options={"base_url": f"http://{server.host}"})


@pytest.fixture
def tracker(server: LoopbackServer) -> Iterator[TokenTracker]:
    tracker = TokenTracker(hosts={server.host: "google"})
    with tokenbudget.patched(tracker):
        yield tracker


def _price(input_tokens: int, output_tokens: int) -> Any:
    return calculate_cost(BILLED, input_tokens, output_tokens, provider="google")


def test_generate_content_is_recorded_exactly(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    response = _client(server).models.generate_content(model=MODEL, contents="Capital of France?")

    assert response.text == "Paris."
    assert [path.split("?")[0] for path, _ in server.requests] == [f"{BASE}:generateContent"]
    [record] = tracker.records
    assert (record.provider, record.model, record.stream) == ("google", BILLED, False)
    assert (record.usage.input_tokens, record.usage.output_tokens) == (PROMPT, OUTPUT)
    assert not record.usage.estimated
    assert record.cost_usd == _price(PROMPT, OUTPUT)


def test_generate_content_stream_is_teed_and_recorded_once(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    stream = _client(server).models.generate_content_stream(model=MODEL, contents="Count.")
    texts = [chunk.text for chunk in stream]

    assert texts == ["part 0 ", "part 1 ", "part 2 "]
    [record] = tracker.records
    prompt, output = STREAM_USAGE[-1]
    assert (record.model, record.stream) == (BILLED, True)
    assert (record.usage.input_tokens, record.usage.output_tokens) == (prompt, output)
    assert not record.usage.estimated
    assert record.cost_usd == _price(prompt, output)


async def test_async_generate_content_is_recorded(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    client = _client(server)

    response = await client.aio.models.generate_content(model=MODEL, contents="Capital?")

    assert response.text == "Paris."
    [record] = tracker.records
    assert (record.usage.input_tokens, record.usage.output_tokens) == (PROMPT, OUTPUT)
    assert record.cost_usd == _price(PROMPT, OUTPUT)


TINY = 0.000_000_01  # dollars: no call fits


def _refused(call: Any) -> float:
    """Seconds ``call()`` took to raise ``BudgetExceeded`` under a budget nothing fits."""
    started = time.perf_counter()
    with tokenbudget.budget(max_cost_usd=TINY), pytest.raises(BudgetExceeded):
        call()
    return time.perf_counter() - started


def test_a_refusal_is_budget_exceeded_and_nothing_is_sent(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    models = _client(server).models
    _refused(lambda: models.generate_content(model=MODEL, contents="Warm the tokenizer."))

    plain = _refused(lambda: models.generate_content(model=MODEL, contents="Capital?"))
    stream = _refused(lambda: list(models.generate_content_stream(model=MODEL, contents="Count.")))

    assert plain < 0.2 and stream < 0.2  # no retry, no retry sleep
    assert server.requests == []
    assert tracker.records == []


async def test_an_async_refusal_is_budget_exceeded_and_nothing_is_sent(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    models = _client(server).aio.models
    for contents in ("Warm the tokenizer.", "Capital?"):
        started = time.perf_counter()
        async with tokenbudget.budget(max_cost_usd=TINY):
            with pytest.raises(BudgetExceeded):
                await models.generate_content(model=MODEL, contents=contents)
        elapsed = time.perf_counter() - started

    assert elapsed < 0.2
    assert server.requests == []
    assert tracker.records == []


def test_a_cache_hit_is_answered_without_the_server(server: LoopbackServer) -> None:
    tracker = TokenTracker(hosts={server.host: "google"}, cache="memory")
    with tokenbudget.patched(tracker):
        client = _client(server)
        first = client.models.generate_content(model=MODEL, contents="Capital of France?")
        second = client.models.generate_content(model=MODEL, contents="Capital of France?")
        streamed = [
            c.text for c in client.models.generate_content_stream(model=MODEL, contents="C")
        ]
        again = [c.text for c in client.models.generate_content_stream(model=MODEL, contents="C")]

    assert second.text == first.text == "Paris."
    assert again == streamed == ["part 0 ", "part 1 ", "part 2 "]
    assert len(server.requests) == 2
    plain, hit, stream, stream_hit = tracker.records
    assert (plain.cached, hit.cached, stream.cached, stream_hit.cached) == (
        False,
        True,
        False,
        True,
    )
    assert hit.cost_usd == 0 and hit.saved_cost_usd == _price(PROMPT, OUTPUT)
    assert (stream_hit.usage.input_tokens, stream_hit.usage.output_tokens) == STREAM_USAGE[-1]


def test_async_calls_run_in_a_thread_with_the_callers_budget(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    """Several concurrent async calls: each its own record, all charged to the budget."""
    client = _client(server)

    async def main() -> None:
        calls = [client.aio.models.generate_content(model=MODEL, contents="Hi") for _ in range(3)]
        await asyncio.gather(*calls)

    with tokenbudget.budget(max_cost_usd=1.0) as ctx:
        asyncio.run(main())

    assert len(tracker.records) == 3
    assert ctx.current_usage.calls == 3
