"""The ``requests`` adapter with plain ``requests`` against a loopback server, under ``patch_all``.

google-genai 1.0-1.5 send through ``requests`` (``test_requests_genai``); these
tests pin the adapter itself: gzip answers, streams teed in odd pieces,
endings of every kind recorded once, errors at zero cost, refusals before
sending, cache hits, and requests it does not know passed through.
"""

from __future__ import annotations

import gc
import gzip
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

import tokenbudget
from tokenbudget import BudgetExceeded, TokenTracker, calculate_cost

from ..loopback import LoopbackServer, chat_chunk, start_response

MODEL = "gemini-2.0-flash"
PATH = f"/v1beta/models/{MODEL}"
REQUEST = {"contents": [{"role": "user", "parts": [{"text": "Capital of France?"}]}]}
#: Cumulative usage of a stream's events; the last one is the call's.
STREAM_USAGE = [(11, 2), (11, 5), (11, 9)]


def answer(text: str, prompt: int, output: int, finish: bool = True) -> bytes:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if finish:
        candidate["finishReason"] = "STOP"
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": output}
    return json.dumps({"candidates": [candidate], "usageMetadata": usage}).encode()


def events(count: int = len(STREAM_USAGE)) -> list[bytes]:
    last = len(STREAM_USAGE) - 1
    return [
        b"data: " + answer(f"part {i} ", p, o, finish=i == last) + b"\r\n\r\n"
        for i, (p, o) in enumerate(STREAM_USAGE[:count])
    ]


def send(
    body: bytes, *, status: int = 200, pieces: int = 0, **headers: str
) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route answering ``body`` (in pieces of ``pieces`` bytes, flushed each) with ``headers``."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        step = pieces or len(body) or 1
        for start in range(0, len(body), step):
            handler.wfile.write(body[start : start + step])
            handler.wfile.flush()

    return route


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    with server.running():
        yield server


@pytest.fixture
def tracker(server: LoopbackServer) -> Iterator[TokenTracker]:
    tracker = TokenTracker(hosts={server.host: "google"})
    with tokenbudget.patched(tracker):
        yield tracker


def post(server: LoopbackServer, kind: str = "generateContent", **kwargs: Any) -> requests.Response:
    query = "?alt=sse" if kind == "streamGenerateContent" else ""
    url = f"http://{server.host}{PATH}:{kind}{query}"
    return requests.Session().post(url, json=REQUEST, **kwargs)


def price(prompt: int, output: int) -> Any:
    return calculate_cost(MODEL, prompt, output, provider="google")


def test_a_gzip_answer_is_read_decoded_and_the_caller_gets_what_requests_gives(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    body = answer("Paris.", 11, 7)
    server.routes[f"{PATH}:generateContent"] = send(
        gzip.compress(body), pieces=5, content_type="application/json", content_encoding="gzip"
    )

    response = post(server)

    assert response.content == body
    assert response.headers["content-encoding"] == "gzip"
    [record] = tracker.records
    assert (record.usage.input_tokens, record.usage.output_tokens) == (11, 7)
    assert not record.usage.estimated and record.cost_usd == price(11, 7)


@pytest.mark.parametrize("size", [1, 7, 512])
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_stream_read_in_odd_pieces_is_teed_and_recorded_once(
    server: LoopbackServer, tracker: TokenTracker, size: int, encoding: str
) -> None:
    body = b"".join(events())
    wire = gzip.compress(body) if encoding == "gzip" else body
    server.routes[f"{PATH}:streamGenerateContent"] = send(
        wire, pieces=13, content_type="text/event-stream", content_encoding=encoding
    )

    response = post(server, "streamGenerateContent", stream=True)
    received = b"".join(response.iter_content(chunk_size=size))

    assert received == body
    [record] = tracker.records
    assert record.stream and record.error is None
    assert (record.usage.input_tokens, record.usage.output_tokens) == STREAM_USAGE[-1]
    assert record.cost_usd == price(*STREAM_USAGE[-1])


def test_each_event_reaches_the_caller_before_the_next_is_sent(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    """Teed, not buffered: the server sends an event only once the caller has the last one."""
    received = [threading.Event() for _ in STREAM_USAGE]
    waited_in_vain: list[int] = []

    def route(handler: BaseHTTPRequestHandler) -> None:
        start_response(handler, {"content-type": "text/event-stream"})
        for index, event in enumerate(events()):
            handler.wfile.write(event)
            handler.wfile.flush()
            if not received[index].wait(timeout=10):
                waited_in_vain.append(index)

    server.routes[f"{PATH}:streamGenerateContent"] = route
    response = post(server, "streamGenerateContent", stream=True)
    index = 0
    for line in response.iter_lines(chunk_size=1):
        if line:
            received[index].set()
            index += 1

    assert index == len(STREAM_USAGE) and waited_in_vain == []
    [record] = tracker.records
    assert (record.usage.input_tokens, record.usage.output_tokens) == STREAM_USAGE[-1]


def test_a_stream_closed_early_is_recorded_once_with_what_was_seen(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    more = threading.Event()

    def route(handler: BaseHTTPRequestHandler) -> None:
        start_response(handler, {"content-type": "text/event-stream"})
        first, second, last = events()
        handler.wfile.write(first + second)
        handler.wfile.flush()
        more.wait(timeout=10)
        handler.wfile.write(last)

    server.routes[f"{PATH}:streamGenerateContent"] = route
    with tokenbudget.budget(max_cost_usd=1) as scope:
        response = post(server, "streamGenerateContent", stream=True)
        # 1-byte reads: a plain read of a body with no length waits for the whole size.
        lines = (line for line in response.iter_lines(chunk_size=1) if line)
        next(lines), next(lines)  # the first event is over, the second one not yet
        response.close()
        more.set()
        del lines
        gc.collect()

    [record] = tracker.records
    assert record.error == "abandoned" and record.usage.estimated
    assert record.usage.input_tokens == STREAM_USAGE[0][0]
    assert record.usage.output_tokens >= STREAM_USAGE[0][1]  # seen, plus the text after it
    assert scope.state.reserved.cost_usd == 0 and scope.state.usage.calls == 1


def test_a_stream_dropped_unread_is_recorded_when_collected(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    server.routes[f"{PATH}:streamGenerateContent"] = send(
        b"".join(events()), content_type="text/event-stream"
    )
    with tokenbudget.budget(max_cost_usd=1) as scope:
        response = post(server, "streamGenerateContent", stream=True)
        assert scope.state.reserved.cost_usd > 0
        del response
        gc.collect()

        assert len(tracker.records) == 1
        assert scope.state.reserved.cost_usd == 0
    assert tracker.records[0].error == "abandoned"


@pytest.mark.parametrize("status", [400, 429, 500])
def test_an_error_answer_is_recorded_at_zero_cost(
    server: LoopbackServer, tracker: TokenTracker, status: int
) -> None:
    body = json.dumps({"error": {"code": status, "message": "no", "status": "X"}}).encode()
    server.routes[f"{PATH}:generateContent"] = send(
        body, status=status, content_type="application/json"
    )

    response = post(server)

    assert response.status_code == status and response.json()["error"]["code"] == status
    [record] = tracker.records
    assert record.status_code == status and record.cost_usd == 0
    assert record.error == f"HTTP {status}"


def test_read_by_size_through_raw_is_observed(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    body = answer("Paris.", 11, 7)
    server.routes[f"{PATH}:generateContent"] = send(
        gzip.compress(body), content_type="application/json", content_encoding="gzip"
    )

    response = post(server, stream=True)
    parts = iter(lambda: response.raw.read(10, decode_content=True), b"")

    assert b"".join(parts) == body
    [record] = tracker.records
    assert (record.usage.input_tokens, record.usage.output_tokens) == (11, 7)


def test_a_body_read_undecoded_passes_through_and_is_recorded_at_close(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    wire = gzip.compress(answer("Paris.", 11, 7))
    server.routes[f"{PATH}:generateContent"] = send(
        wire, content_type="application/json", content_encoding="gzip"
    )

    response = post(server, stream=True)
    raw = response.raw.read()  # requests leaves raw reads undecoded
    response.close()

    assert raw == wire
    [record] = tracker.records
    assert record.usage.estimated


def test_a_refusal_is_raised_before_anything_is_sent(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    server.routes[f"{PATH}:generateContent"] = send(answer("Paris.", 11, 7))

    with tokenbudget.budget(max_cost_usd=0.000_000_01), pytest.raises(BudgetExceeded):
        post(server)

    assert server.requests == [] and tracker.records == []


def test_a_cache_hit_is_replayed_without_the_server(server: LoopbackServer) -> None:
    server.routes[f"{PATH}:generateContent"] = send(
        gzip.compress(answer("Paris.", 11, 7)),
        content_type="application/json",
        content_encoding="gzip",
        x_request_id="req-1",
    )
    server.routes[f"{PATH}:streamGenerateContent"] = send(
        b"".join(events()), content_type="text/event-stream"
    )
    tracker = TokenTracker(hosts={server.host: "google"}, cache="memory")
    with tokenbudget.patched(tracker):
        first, second = post(server), post(server)
        lines = [
            [
                line
                for line in post(server, "streamGenerateContent", stream=True).iter_lines()
                if line
            ]
            for _ in range(2)
        ]

    assert second.json() == first.json() and second.status_code == 200
    assert "content-encoding" not in second.headers
    assert lines[1] == lines[0] and len(lines[0]) == len(STREAM_USAGE)
    assert len(server.requests) == 2
    assert [r.cached for r in tracker.records] == [False, True, False, True]
    hit = tracker.records[1]
    assert hit.cost_usd == 0 and hit.saved_cost_usd == price(11, 7)


def test_requests_it_does_not_know_pass_through_untracked(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    server.routes["/other"] = send(b"hello", content_type="text/plain")

    response = requests.Session().post(f"http://{server.host}/other", data=b"x")

    assert response.content == b"hello"
    assert tracker.records == []


def test_unpatch_all_leaves_new_sessions_untracked(server: LoopbackServer) -> None:
    server.routes[f"{PATH}:generateContent"] = send(answer("Paris.", 11, 7))
    tracker = TokenTracker(hosts={server.host: "google"})
    with tokenbudget.patched(tracker):
        tracked = requests.Session()
    post(server)
    tracked.post(f"http://{server.host}{PATH}:generateContent", json=REQUEST)

    assert len(tracker.records) == 1  # the session built while patched only


def test_unpatch_all_restores_requests_own_mount() -> None:
    original = requests.Session.mount
    with tokenbudget.patched(TokenTracker()):
        assert requests.Session.mount is not original

    assert requests.Session.mount is original


def test_importing_tokenbudget_does_not_import_requests() -> None:
    code = "import sys, tokenbudget; print('requests' in sys.modules, 'urllib3' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_usage_asked_for_by_tokenbudget_is_hidden_from_the_caller(
    server: LoopbackServer, encoding: str
) -> None:
    """An OpenAI chat stream: tokenbudget asks for usage and hides the chunk it brings."""
    content = chat_chunk("Hello") + chat_chunk(" there")
    usage = (
        b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,'
        b'"model":"gpt-4o-mini-2024-07-18","choices":[],'
        b'"usage":{"prompt_tokens":8,"completion_tokens":3,"total_tokens":11}}\n\n'
    )

    def route(handler: BaseHTTPRequestHandler) -> None:
        asked = json.loads(server.requests[-1][1]).get("stream_options", {}).get("include_usage")
        body = content + (usage if asked else b"") + b"data: [DONE]\n\n"
        wire = gzip.compress(body) if encoding == "gzip" else body
        send(wire, pieces=9, content_type="text/event-stream", content_encoding=encoding)(handler)

    server.routes["/v1/chat/completions"] = route
    tracker = TokenTracker(hosts={server.host: "openai"})
    request = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
    with tokenbudget.patched(tracker):
        response = requests.Session().post(
            f"{server.base_url}/chat/completions", json={**request, "stream": True}, stream=True
        )
        received = b"".join(response.iter_content(chunk_size=5))

    data = [line[6:] for line in received.splitlines() if line.startswith(b"data: ")]
    assert data[-1] == b"[DONE]"
    chunks = [json.loads(item) for item in data[:-1]]
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["Hello", " there"]
    assert b"prompt_tokens" not in received
    assert "content-encoding" not in response.headers
    [record] = tracker.records
    assert (record.usage.input_tokens, record.usage.output_tokens) == (8, 3)
    assert not record.usage.estimated


def test_the_session_keeps_the_cookies_a_tracked_answer_sets(
    server: LoopbackServer, tracker: TokenTracker
) -> None:
    server.routes[f"{PATH}:generateContent"] = send(
        answer("Paris.", 11, 7), content_type="application/json", set_cookie="affinity=a1; Path=/"
    )
    session = requests.Session()

    session.post(f"http://{server.host}{PATH}:generateContent", json=REQUEST)

    assert session.cookies.get("affinity") == "a1"
    assert len(tracker.records) == 1
