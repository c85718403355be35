"""What an openai SDK client reads of an odd chat stream: the provider's bytes, tracked or not.

tokenbudget may ask a chat stream for its usage and hide the extra usage chunk
again; these answers make that hard to prove (no or a wrong content-type, an
encoding it cannot decode, a host that sends usage unasked, a gzip body that
breaks, one enormous event, bare CR line endings). Each is read through a plain
client and a tracked one: the application must see the same chunks and the same
outcome, and the tracked call is recorded once.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker

from ..support import StubBook, fixture_bytes, mock_transport, module

MESSAGES = [{"role": "user", "content": "Hi"}]
SSE = "text/event-stream"
TEXT = "Hello! How can I help you today?"


def usage_asked(request: Any) -> bool:
    options = json.loads(request.content).get("stream_options") or {}
    return options.get("include_usage") is True


class ChatHost:
    """Serves the OpenAI chat stream fixture, in small chunks, with the given head.

    Like OpenAI, the usage chunk comes only when the request asks for it, unless
    ``usage_unasked`` (like OpenRouter, which always sends it). ``wire`` turns the
    body into the bytes sent (e.g. gzip, or a damaged gzip).
    """

    def __init__(
        self,
        family: str,
        headers: dict[str, str],
        *,
        usage_unasked: bool = False,
        body: bytes | None = None,
        wire: Any = None,
        size: int = 37,
    ) -> None:
        self.family = family
        self.headers = headers
        self.usage_unasked = usage_unasked
        self.body = body
        self.wire = wire
        self.size = size
        self.asked: list[bool] = []

    def __call__(self, request: Any) -> Any:
        asked = usage_asked(request)
        self.asked.append(asked)
        data = self.body
        if data is None:
            with_usage = asked or self.usage_unasked
            data = fixture_bytes(
                "openai/chat_stream.sse" if with_usage else "openai/chat_stream_no_usage.sse"
            )
        if self.wire is not None:
            data = self.wire(data)
        mod = module(self.family)
        size = self.size

        class Stream(mod.SyncByteStream):  # type: ignore[misc, name-defined]
            def __iter__(self) -> Iterator[bytes]:
                for i in range(0, len(data), size):
                    yield data[i : i + size]

        return mod.Response(200, headers=self.headers, stream=Stream())


def read(client: openai.OpenAI, **options: Any) -> tuple[list[Any], BaseException | None]:
    """The chunks the application gets, and the exception that ended the stream (if any)."""
    chunks: list[Any] = []
    try:
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, **options
        )
        for chunk in stream:
            chunks.append(chunk.model_dump(exclude_unset=True))
    except Exception as exc:
        return chunks, exc
    return chunks, None


def plain_and_tracked(
    host: ChatHost, **options: Any
) -> tuple[tuple[list[Any], BaseException | None], tuple[list[Any], BaseException | None], Any]:
    """The same call through an untracked client and a tracked one, and the tracker."""
    transport = mock_transport(host.family, host)
    plain_http = module(host.family).Client(transport=transport)
    plain = read(openai.OpenAI(api_key="sk-test", http_client=plain_http, max_retries=0), **options)
    tracker = TokenTracker(prices=StubBook())
    tracked_http = tracker.httpx_client(family=host.family, transport=transport)
    tracked = read(
        openai.OpenAI(api_key="sk-test", http_client=tracked_http, max_retries=0), **options
    )
    return plain, tracked, tracker


def same_outcome(
    plain: tuple[list[Any], BaseException | None], tracked: tuple[list[Any], BaseException | None]
) -> None:
    assert tracked[0] == plain[0]
    assert type(tracked[1]) is type(plain[1]), (tracked[1], plain[1])


# -- item 3: the injected usage chunk is hidden only where it can be proven ------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-content-type"),
        pytest.param({"content-type": "application/json"}, id="json-content-type"),
        pytest.param({"content-type": SSE, "content-encoding": "br"}, id="br-without-brotli"),
    ],
)
def test_the_injected_usage_chunk_never_reaches_the_app(
    family: str, headers: dict[str, str]
) -> None:
    host = ChatHost(family, headers)

    plain, tracked, tracker = plain_and_tracked(host)

    same_outcome(plain, tracked)
    assert tracked[1] is None and all(chunk["choices"] for chunk in tracked[0])
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in tracked[0]) == TEXT
    assert len(tracker.records) == 1
    record = tracker.records[0]
    if host.asked[-1]:  # usage was asked for: the tracker read it
        assert record.usage.total_tokens == 29 and not record.usage.estimated
    else:
        assert record.usage.estimated


def test_a_host_that_sends_usage_unasked_keeps_its_usage_chunk(family: str) -> None:
    host = ChatHost(family, {"content-type": SSE}, usage_unasked=True)
    host_url = "https://openrouter.ai/api/v1"
    transport = mock_transport(family, host)
    plain_http = module(family).Client(transport=transport)
    plain = read(openai.OpenAI(api_key="k", base_url=host_url, http_client=plain_http))
    tracker = TokenTracker(prices=StubBook())
    tracked_http = tracker.httpx_client(family=family, transport=transport)
    tracked = read(openai.OpenAI(api_key="k", base_url=host_url, http_client=tracked_http))

    same_outcome(plain, tracked)
    assert tracked[0][-1]["choices"] == [] and tracked[0][-1]["usage"]["total_tokens"] == 29
    assert host.asked == [False, False], "nothing is added to a request for usage sent anyway"
    (record,) = tracker.records
    assert record.provider == "openrouter" and record.usage.total_tokens == 29
    assert not record.usage.estimated


def test_the_users_own_include_usage_hides_nothing(family: str) -> None:
    host = ChatHost(family, {"content-type": SSE})

    plain, tracked, tracker = plain_and_tracked(host, stream_options={"include_usage": True})

    same_outcome(plain, tracked)
    assert tracked[0][-1]["choices"] == [] and tracked[0][-1]["usage"]["total_tokens"] == 29
    assert tracker.records[0].usage.total_tokens == 29


# -- item 4: a decode failure passes the provider's bytes on and stops reading ---------------


def broken_gzip(data: bytes) -> bytes:
    """``data`` gzipped, with the compressed bytes damaged past the first few events."""
    packed = bytearray(gzip.compress(data, mtime=0))
    middle = len(packed) // 2
    packed[middle : middle + 8] = b"\xff" * 8
    return bytes(packed)


@pytest.mark.parametrize("inject", [True, False], ids=["injected", "not-injected"])
def test_gzip_breaking_mid_stream_gives_the_sdk_its_usual_error(family: str, inject: bool) -> None:
    host = ChatHost(family, {"content-type": SSE, "content-encoding": "gzip"}, wire=broken_gzip)
    options = {} if inject else {"stream_options": {"include_usage": True}}

    plain, tracked, tracker = plain_and_tracked(host, **options)

    assert plain[1] is not None, "the damaged body must fail in the plain client too"
    same_outcome(plain, tracked)
    (record,) = tracker.records
    assert record.usage.estimated and record.error is not None


def oversized_event_stream(data: bytes) -> bytes:
    """Two events, then one event of over 16 MiB, then the rest of the stream."""
    events = data.split(b"\n\n")
    huge = b": " + b"x" * (16 * 1024 * 1024 + 10) + b"\n"
    return b"\n\n".join(events[:2]) + b"\n\n" + huge + b"\n\n".join(events[2:])


@pytest.mark.parametrize("inject", [True, False], ids=["injected", "not-injected"])
def test_an_oversized_event_reaches_the_sdk_whole(family: str, inject: bool) -> None:
    host = ChatHost(family, {"content-type": SSE}, wire=oversized_event_stream, size=1 << 16)
    options = {} if inject else {"stream_options": {"include_usage": True}}

    plain, tracked, tracker = plain_and_tracked(host, **options)

    same_outcome(plain, tracked)
    assert plain[1] is None and len(tracked[0]) >= 10
    (record,) = tracker.records
    assert record.usage.estimated


# -- item 8: a complete bare-CR stream ---------------------------------------------------------


def bare_cr(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r")


@pytest.mark.parametrize("inject", [True, False], ids=["injected", "not-injected"])
def test_a_complete_bare_cr_stream_is_recorded_complete(family: str, inject: bool) -> None:
    host = ChatHost(family, {"content-type": SSE}, wire=bare_cr)
    options = {} if inject else {"stream_options": {"include_usage": True}}

    plain, tracked, tracker = plain_and_tracked(host, **options)

    same_outcome(plain, tracked)
    (record,) = tracker.records
    assert record.error is None and record.succeeded
    assert record.usage.total_tokens == 29 and not record.usage.estimated
