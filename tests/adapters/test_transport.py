"""The tracking transports, through plain httpx/httpx2 clients over mock transports."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import threading
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker, Usage
from tokenbudget.providers.openai import OpenAIReader

from ..support import (
    StubBook,
    async_client,
    cost,
    fixture_bytes,
    json_answer,
    mock_transport,
    module,
    resolve,
    response,
    sync_client,
)

CHAT_URL = "https://api.openai.com/v1/chat/completions"
CHAT_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
STREAM_BODY = {**CHAT_BODY, "model": "gpt-4o-mini", "stream": True}


@pytest.fixture
def tracker() -> TokenTracker:
    return TokenTracker(prices=StubBook())


class ChunkedStream:
    """A sync+async byte stream of fixed chunks that may fail after some of them."""

    def __init__(self, chunks: list[bytes], fail_after: int | None = None, error: Any = None):
        self.chunks = chunks
        self.fail_after = fail_after
        self.error = error
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if index == self.fail_after:
                raise self.error
            yield chunk

    async def __aiter__(self) -> Any:
        for chunk in self:
            yield chunk

    def close(self) -> None:
        self.closed += 1

    async def aclose(self) -> None:
        self.closed += 1


def sse_handler(family: str, stream: ChunkedStream) -> Any:
    mod = module(family)

    class Stream(mod.SyncByteStream, mod.AsyncByteStream):  # type: ignore[misc]
        def __iter__(self) -> Iterator[bytes]:
            return iter(stream)

        def __aiter__(self) -> Any:
            return stream.__aiter__()

        def close(self) -> None:
            stream.close()

        async def aclose(self) -> None:
            await stream.aclose()

    def handler(request: Any) -> Any:
        return mod.Response(200, headers={"content-type": "text/event-stream"}, stream=Stream())

    return handler


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- pass-through ---------------------------------------------------------------------


def test_unknown_host_passes_through_untouched(tracker: TokenTracker, family: str) -> None:
    body = gzip.compress(b'{"usage": {"prompt_tokens": 5}}')
    seen: list[Any] = []

    def handler(request: Any) -> Any:
        seen.append(request)
        return response(
            family, 200, headers={"content-encoding": "gzip", "x-custom": "1"}, content=body
        )

    client = sync_client(tracker, family, handler)
    result = client.post("https://example.com/v1/chat/completions", content=b"not json")
    assert result.json() == {"usage": {"prompt_tokens": 5}}
    assert result.headers["x-custom"] == "1"
    assert "tokenbudget.exchange" not in result.extensions
    assert seen[0].content == b"not json"
    assert tracker.usage.calls == 0


def test_untracked_paths_on_a_known_host_pass_through(tracker: TokenTracker, family: str) -> None:
    client = sync_client(tracker, family, json_answer(family, b'{"data": []}'))
    assert client.get("https://api.openai.com/v1/models").json() == {"data": []}
    client.post("https://api.openai.com/v1/files", content=b"--multipart--")
    assert tracker.usage.calls == 0


def test_request_body_rewrite_keeps_a_valid_request(tracker: TokenTracker, family: str) -> None:
    seen: list[Any] = []

    def handler(request: Any) -> Any:
        seen.append(request)
        return response(
            family,
            200,
            headers={"content-type": "text/event-stream"},
            content=fixture_bytes("openai/chat_stream.sse"),
        )

    client = sync_client(tracker, family, handler)
    client.post(CHAT_URL, json=STREAM_BODY).read()
    sent = seen[0]
    assert json.loads(sent.content) == {**STREAM_BODY, "stream_options": {"include_usage": True}}
    assert sent.headers["content-length"] == str(len(sent.content))


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 429, 500, 503])
def test_error_status_is_recorded_at_zero_cost(
    tracker: TokenTracker, family: str, status: int
) -> None:
    def handler(request: Any) -> Any:
        return response(
            family, status, json={"error": {"message": "nope", "type": "rate_limit_error"}}
        )

    client = sync_client(tracker, family, handler)
    assert client.post(CHAT_URL, json=CHAT_BODY).status_code == status
    record = tracker.records[-1]
    assert record.status_code == status
    assert record.cost_usd == Decimal(0) and record.usage == Usage()
    assert record.error == f"HTTP {status}"
    assert tracker.usage.failed_calls == 1


def test_sdk_retries_are_separate_records(tracker: TokenTracker) -> None:
    statuses = iter([429, 500, 200])

    def handler(request: Any) -> Any:
        status = next(statuses)
        if status == 200:
            return response("httpx2", 200, content=fixture_bytes("openai/chat.json"))
        return response(
            "httpx2", status, headers={"retry-after-ms": "1"}, json={"error": {"message": "x"}}
        )

    client = openai.OpenAI(
        api_key="sk-test", http_client=sync_client(tracker, "httpx2", handler), max_retries=2
    )
    client.chat.completions.create(**CHAT_BODY)  # type: ignore[call-overload]
    assert [r.status_code for r in tracker.records] == [429, 500, 200]
    assert tracker.total_cost == cost("gpt-4o-2024-08-06", 19, 10)


def test_rate_limit_through_the_sdk(tracker: TokenTracker) -> None:
    def handler(request: Any) -> Any:
        return response("httpx2", 429, json={"error": {"message": "slow down"}})

    client = openai.OpenAI(
        api_key="sk-test", http_client=sync_client(tracker, "httpx2", handler), max_retries=0
    )
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**CHAT_BODY)  # type: ignore[call-overload]
    assert tracker.usage.calls == 1 and tracker.total_cost == 0


def test_connection_error_before_response(tracker: TokenTracker, family: str) -> None:
    mod = module(family)

    def handler(request: Any) -> Any:
        raise mod.ConnectError("refused", request=request)

    client = sync_client(tracker, family, handler)
    with pytest.raises(mod.ConnectError):
        client.post(CHAT_URL, json=CHAT_BODY)
    record = tracker.records[-1]
    assert record.status_code is None and record.cost_usd == 0
    assert record.error is not None and record.error.startswith("ConnectError")


def test_a_parser_that_raises_does_not_break_the_call(
    tracker: TokenTracker, family: str, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(self: Any, body: bytes) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(OpenAIReader, "on_body", broken)
    monkeypatch.setattr("tokenbudget._core._log._warned", set())
    client = sync_client(tracker, family, json_answer(family))
    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        for _ in range(3):
            result = client.post(CHAT_URL, json=CHAT_BODY)
            assert result.json()["usage"]["total_tokens"] == 29

    assert tracker.usage.calls == 3
    assert all(r.estimated for r in tracker.records)
    # Estimated from the request: 8 input tokens; nothing seen of the output.
    assert tracker.records[-1].usage == Usage(
        input_tokens=8,
        estimated=True,
        estimate_reason="tokenbudget could not read the answer (the log says why)",
    )
    warnings = [r for r in caplog.records if "could not read" in r.getMessage()]
    assert len(warnings) == 1, "a failure is logged once, not per call"


def test_bad_json_body_is_recorded_estimated(tracker: TokenTracker, family: str) -> None:
    client = sync_client(tracker, family, json_answer(family, b"{not json"))
    assert client.post(CHAT_URL, json=CHAT_BODY).content == b"{not json"
    assert tracker.records[-1].estimated


def test_pricing_failure_records_unpriced(tracker: TokenTracker, family: str) -> None:
    class Exploding(StubBook):
        def cost(self, *args: Any, **kwargs: Any) -> Decimal | None:
            raise ValueError("bad price data")

    tracker = TokenTracker(prices=Exploding())
    client = sync_client(tracker, family, json_answer(family))
    client.post(CHAT_URL, json=CHAT_BODY)
    assert tracker.records[-1].cost_usd is None
    assert tracker.usage.unpriced_calls == 1


# -- streams -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 7, 64, 100_000])
def test_stream_any_chunking(tracker: TokenTracker, family: str, size: int) -> None:
    data = fixture_bytes("openai/chat_stream.sse")
    client = sync_client(tracker, family, sse_handler(family, ChunkedStream(split(data, size))))
    with client.stream("POST", CHAT_URL, json=STREAM_BODY) as result:
        received = b"".join(result.iter_raw())
    assert b'"usage":null' not in received and b'"choices":[]' not in received
    assert received.count(b"data: ") == 12
    assert tracker.records[-1].usage == Usage(input_tokens=19, output_tokens=10)


async def test_abandoned_stream_is_recorded_once(
    tracker: TokenTracker, family: str, mode: str
) -> None:
    data = fixture_bytes("openai/chat_stream.sse")
    inner = ChunkedStream(split(data, 200))
    handler = sse_handler(family, inner)
    if mode == "async":
        client: Any = openai.AsyncOpenAI(
            api_key="sk-test", http_client=async_client(tracker, family, handler)
        )
    else:
        client = openai.OpenAI(api_key="sk-test", http_client=sync_client(tracker, family, handler))
    stream = await resolve(
        client.chat.completions.create(
            model="gpt-4o-mini", messages=CHAT_BODY["messages"], stream=True
        )
    )
    read = stream.__anext__ if mode == "async" else stream.__next__
    for _ in range(3):
        await resolve(read())
    await resolve(stream.close())
    await resolve(stream.close())

    assert tracker.usage.calls == 1
    record = tracker.records[-1]
    assert record.error == "abandoned" and record.estimated
    assert record.usage.input_tokens == 8  # counted from the request
    assert record.usage.output_tokens >= 1  # counted from what was seen
    assert inner.closed == 1


def test_connection_error_mid_stream(tracker: TokenTracker, family: str) -> None:
    mod = module(family)
    data = fixture_bytes("openai/chat_stream.sse")
    error = mod.ReadError("connection reset")
    inner = ChunkedStream(split(data, 300), fail_after=3, error=error)
    http_client = sync_client(tracker, family, sse_handler(family, inner))
    client = openai.OpenAI(api_key="sk-test", http_client=http_client, max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=CHAT_BODY["messages"], stream=True
    )
    with pytest.raises(openai.APIConnectionError) as raised:
        list(stream)
    assert raised.value.__cause__ is error, "the original exception reaches the SDK unchanged"
    stream.close()
    assert tracker.usage.calls == 1
    record = tracker.records[-1]
    assert record.error == "ReadError: connection reset" and record.estimated
    assert record.usage.input_tokens == 8 and record.usage.output_tokens > 0


def test_sse_error_status_stream_zero_cost(tracker: TokenTracker, family: str) -> None:
    def handler(request: Any) -> Any:
        return response(family, 500, headers={"content-type": "text/event-stream"})

    client = sync_client(tracker, family, handler)
    with client.stream("POST", CHAT_URL, json=STREAM_BODY) as result:
        result.read()
    assert tracker.records[-1].cost_usd == 0


# -- content encodings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
    ],
)
def test_encoded_json(tracker: TokenTracker, family: str, encoding: str, encode: Any) -> None:
    body = encode(fixture_bytes("openai/chat.json"))
    client = sync_client(
        tracker, family, json_answer(family, body, **{"content-encoding": encoding})
    )
    assert client.post(CHAT_URL, json=CHAT_BODY).json()["usage"]["total_tokens"] == 29
    assert tracker.records[-1].usage == Usage(input_tokens=19, output_tokens=10)


def test_gzip_stream_with_filter_reaches_the_sdk_decoded(
    tracker: TokenTracker, family: str
) -> None:
    data = gzip.compress(fixture_bytes("openai/chat_stream.sse"))
    mod = module(family)

    def handler(request: Any) -> Any:
        return mod.Response(
            200,
            headers={"content-type": "text/event-stream", "content-encoding": "gzip"},
            content=data,
        )

    client = openai.OpenAI(api_key="sk-test", http_client=sync_client(tracker, family, handler))
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini", messages=CHAT_BODY["messages"], stream=True
        )
    )
    assert len(chunks) == 11 and all(c.choices for c in chunks)
    assert tracker.records[-1].usage == Usage(input_tokens=19, output_tokens=10)


# -- entry points ----------------------------------------------------------------------------


def test_transport_entry_points(tracker: TokenTracker, family: str) -> None:
    mod = module(family)
    inner = mock_transport(family, json_answer(family))
    client = mod.Client(transport=tracker.transport(inner))
    client.post(CHAT_URL, json=CHAT_BODY)
    assert tracker.transport(family=family).inner.__class__ is mod.HTTPTransport
    assert tracker.async_transport(family=family).inner.__class__ is mod.AsyncHTTPTransport
    assert tracker.usage.calls == 1


# -- concurrency ------------------------------------------------------------------------------


def test_threads_totals_exact(tracker: TokenTracker) -> None:
    client = sync_client(tracker, "httpx2", json_answer("httpx2"))

    def work() -> None:
        for _ in range(500):
            client.post(CHAT_URL, json=CHAT_BODY)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    summary = tracker.usage
    assert summary.calls == 8000
    assert (summary.input_tokens, summary.output_tokens) == (19 * 8000, 10 * 8000)
    assert summary.cost_usd == cost("gpt-4o-2024-08-06", 19, 10) * 8000
    assert len(tracker.records) == 8000


async def test_asyncio_tasks_totals_exact(tracker: TokenTracker, family: str) -> None:
    client = async_client(tracker, family, json_answer(family))
    async with client:
        await asyncio.gather(*(client.post(CHAT_URL, json=CHAT_BODY) for _ in range(1000)))
    summary = tracker.usage
    assert (summary.calls, summary.total_tokens) == (1000, 29_000)
    assert summary.cost_usd == Decimal("0.1475")


def test_family_mismatch_is_a_clear_error(tracker: TokenTracker) -> None:
    with pytest.raises(ValueError, match="family='httpx2'"):
        tracker.httpx_client(
            family="httpx", transport=mock_transport("httpx2", json_answer("httpx2"))
        )


def test_family_of_user_transports_and_tracking_transports(tracker: TokenTracker) -> None:
    """openai renames httpx2 classes' __module__: families are told apart by subclassing."""
    import httpx2

    from tokenbudget._adapters import family_of

    class MyTransport(httpx2.BaseTransport):
        def handle_request(self, request: Any) -> Any:
            return json_answer("httpx2")(request)

    assert family_of(MyTransport()).name == "httpx2"
    assert family_of(tracker.transport(family="httpx")).name == "httpx"
    other = TokenTracker(prices=StubBook())
    client = other.httpx_client(transport=tracker.transport(MyTransport()))
    client.post(CHAT_URL, json=CHAT_BODY)
    assert tracker.usage.calls == 1 and other.usage.calls == 1
