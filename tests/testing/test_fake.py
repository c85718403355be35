"""FakeLLM's own behaviour: scripted replies, the request log, families, determinism, fixture."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import httpx2
import pytest

from tokenbudget import TokenTracker
from tokenbudget.testing import DEFAULT_CREATED, FakeLLM, FakeReply, FakeRequest, Message

from ..support import tokens

CHAT_URL = "https://api.openai.com/v1/chat/completions"
EMBEDDINGS_URL = "https://api.openai.com/v1/embeddings"
MESSAGES_URL = "https://api.anthropic.com/v1/messages"


def chat(fake: Any, text: str = "Hi", **extra: Any) -> httpx2.Response:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], **extra}
    with httpx2.Client(transport=fake) as client:
        return client.post(CHAT_URL, json=body)


def said(response: httpx2.Response) -> str:
    text: str = response.json()["choices"][0]["message"]["content"]
    return text


# -- replies -----------------------------------------------------------------------------


def test_default_reply_echoes_the_last_user_message() -> None:
    long = "word " * 40
    assert said(chat(FakeLLM(), "What is  the\ncapital?")) == (
        "This is a fake reply to: What is the capital?"
    )
    echoed = said(chat(FakeLLM(), long))
    assert echoed.startswith("This is a fake reply to: word word") and echoed.endswith("...")
    assert len(echoed) < 100
    with httpx2.Client(transport=FakeLLM()) as client:
        body = {"model": "gpt-4o", "messages": [{"role": "system", "content": "Be nice"}]}
        assert said(client.post(CHAT_URL, json=body)) == "This is a fake reply."


def test_replies_are_said_in_order_then_an_error_says_why() -> None:
    fake = FakeLLM(["one", FakeReply(text="two")])

    assert [said(chat(fake)), said(chat(fake))] == ["one", "two"]
    third = chat(fake)
    assert third.status_code == 500
    assert third.headers["x-should-retry"] == "false"
    message = third.json()["error"]["message"]
    assert "all 2 scripted replies were used" in message and "request #3" in message


@pytest.mark.parametrize(
    ("when_exhausted", "expected"),
    [("repeat", ["a", "b", "b", "b"]), ("cycle", ["a", "b", "a", "b"])],
)
def test_when_exhausted(when_exhausted: Any, expected: list[str]) -> None:
    fake = FakeLLM(["a", "b"], when_exhausted=when_exhausted)
    assert [said(chat(fake)) for _ in expected] == expected


def test_embeddings_do_not_take_scripted_replies() -> None:
    fake = FakeLLM(["only one"])
    with httpx2.Client(transport=fake) as client:
        client.post(EMBEDDINGS_URL, json={"model": "text-embedding-3-small", "input": "x"})
    assert said(chat(fake)) == "only one"


def test_a_callable_reply_sees_every_request() -> None:
    seen: list[FakeRequest] = []

    def reply(request: FakeRequest) -> str | FakeReply:
        seen.append(request)
        if request.endpoint == "embeddings":
            return FakeReply(status=429)
        return f"{request.provider}/{request.endpoint}/{request.model}: {request.last_user_text}"

    fake = FakeLLM(reply=reply)
    assert said(chat(fake, "ping")) == "openai/chat/gpt-4o: ping"
    with httpx2.Client(transport=fake) as client:
        embedded = client.post(EMBEDDINGS_URL, json={"model": "m", "input": ["a", "b"]})
    assert embedded.status_code == 429
    assert [request.endpoint for request in seen] == ["chat", "embeddings"]
    assert seen[1].messages == (Message("user", "a"), Message("user", "b"))


def test_a_fixed_reply() -> None:
    fake = FakeLLM(reply="always")
    assert [said(chat(fake)), said(chat(fake))] == ["always", "always"]


def test_an_exception_reply_is_raised_from_the_transport() -> None:
    fake = FakeLLM([httpx2.ConnectError("no route")])
    with pytest.raises(httpx2.ConnectError, match="no route"):
        chat(fake)
    assert fake.calls == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"replies": ["a"], "reply": "b"}, ValueError),
        ({"replies": []}, ValueError),
        ({"replies": "abc"}, TypeError),
        ({"replies": [42]}, TypeError),
        ({"when_exhausted": "never"}, ValueError),
        ({"chunk_size": 0}, ValueError),
        ({"family": "requests"}, ValueError),
    ],
)
def test_bad_arguments_fail_early(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        FakeLLM(**kwargs)


def test_reply_usage_adjustments_openai() -> None:
    reply = FakeReply(
        text="Hi there",
        reasoning_tokens=10,
        cached_tokens=3,
        input_tokens=50,
        model="gpt-4o-2024-08-06",
        finish_reason="content_filter",
        headers={"x-ratelimit-remaining-requests": "9"},
    )
    response = chat(FakeLLM([reply]))

    document = response.json()
    usage = document["usage"]
    assert document["model"] == "gpt-4o-2024-08-06"
    assert document["choices"][0]["finish_reason"] == "content_filter"
    assert response.headers["x-ratelimit-remaining-requests"] == "9"
    assert usage["prompt_tokens"] == 50
    assert usage["prompt_tokens_details"]["cached_tokens"] == 3
    assert usage["completion_tokens"] == tokens("Hi there", "gpt-4o") + 10
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 10


def test_output_tokens_override_and_cache_caps() -> None:
    reply = FakeReply(text="Hi", output_tokens=7, cached_tokens=10_000)
    usage = chat(FakeLLM([reply]), "Hello").json()["usage"]
    assert usage["completion_tokens"] == 7
    assert usage["prompt_tokens_details"]["cached_tokens"] == usage["prompt_tokens"]


def test_max_tokens_cuts_the_reply_at_a_word() -> None:
    text = "one two three four five six seven eight nine ten"
    document = chat(FakeLLM([text]), max_completion_tokens=4).json()
    choice = document["choices"][0]
    assert choice["finish_reason"] == "length"
    assert choice["message"]["content"] == "one two three four"
    assert document["usage"]["completion_tokens"] == 4


def test_chunk_size_sets_words_per_delta() -> None:
    response = chat(FakeLLM(["a b c d e"], chunk_size=2), stream=True)
    chunks = [json.loads(line[6:]) for line in response.text.split("\n\n") if "{" in line]
    deltas = [chunk["choices"][0]["delta"].get("content") for chunk in chunks]
    assert deltas == ["", "a b", " c d", " e", None]


# -- request log ---------------------------------------------------------------------------


def test_requests_are_recorded() -> None:
    fake = FakeLLM()
    assert (fake.calls, fake.requests, fake.last_request) == (0, [], None)

    chat(fake, "first")
    with httpx2.Client(transport=fake) as client:
        client.post(
            MESSAGES_URL,
            json={
                "model": "claude-sonnet-4-6",
                "max_tokens": 5,
                "stream": True,
                "system": [{"type": "text", "text": "Be brief"}],
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                    {"role": "assistant", "content": [{"type": "tool_use", "input": {"a": 1}}]},
                    {
                        "role": "user",
                        "content": [{"type": "tool_result", "content": "42"}],
                    },
                ],
            },
            headers={"X-Api-Key": "secret"},
        )

    first, second = fake.requests
    assert fake.calls == 2 and fake.last_request == second
    assert (first.provider, first.endpoint, first.model, first.stream) == (
        "openai",
        "chat",
        "gpt-4o",
        False,
    )
    assert first.messages == (Message("user", "first"),)
    assert (second.index, second.provider, second.stream) == (1, "anthropic", True)
    assert second.headers["x-api-key"] == "secret"
    assert second.body["max_tokens"] == 5
    assert second.content.startswith(b"{")
    assert [message.role for message in second.messages] == ["system", "user", "assistant", "user"]
    assert second.prompt == 'Be brief\nHi\n{"a":1}\n42'
    assert second.last_user_text == "42"
    assert second.method == "POST"


def test_reset_forgets_requests_and_rewinds_replies() -> None:
    fake = FakeLLM(["a", "b"])
    first = chat(fake)
    chat(fake)
    fake.reset()
    again = chat(fake)
    assert fake.calls == 1
    assert said(again) == "a"
    assert again.json()["id"] == first.json()["id"]


# -- families --------------------------------------------------------------------------------


def test_default_family_is_httpx2_and_both_sync_and_async() -> None:
    fake = FakeLLM()
    assert isinstance(fake, FakeLLM)
    assert fake.family == "httpx2"
    assert isinstance(fake, httpx2.BaseTransport) and isinstance(fake, httpx2.AsyncBaseTransport)
    assert not isinstance(fake, httpx.BaseTransport)
    assert repr(fake) == "<FakeLLM family='httpx2' calls=0>"


def test_httpx_family() -> None:
    fake = FakeLLM(family="httpx")
    assert fake.family == "httpx"
    assert isinstance(fake, httpx.BaseTransport) and isinstance(fake, httpx.AsyncBaseTransport)
    assert type(TokenTracker().httpx_client(transport=fake)) is httpx.Client
    assert type(TokenTracker().async_httpx_client(transport=fake)) is httpx.AsyncClient


def test_with_family_shares_replies_and_log() -> None:
    fake = FakeLLM(["a", "b"])
    twin = fake.with_family("httpx")

    with httpx.Client(transport=twin) as client:
        response = client.post(CHAT_URL, json={"model": "m", "messages": []})
    assert isinstance(response, httpx.Response)
    assert response.json()["choices"][0]["message"]["content"] == "a"
    assert said(chat(fake)) == "b"
    assert fake.calls == twin.calls == 2
    assert twin.family == "httpx" and isinstance(twin, FakeLLM)


def test_answers_in_the_family_of_the_request() -> None:
    """Even a mismatched fake answers a plain client of the other family correctly."""
    with httpx.Client(transport=FakeLLM(family="httpx2")) as client:
        response = client.post(CHAT_URL, json={"model": "m", "messages": []})
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200


async def test_async_clients_of_both_families() -> None:
    for module in (httpx, httpx2):
        fake: Any = FakeLLM(["hi"])
        async with module.AsyncClient(transport=fake) as client:
            response = await client.post(CHAT_URL, json={"model": "m", "messages": []})
        assert response.json()["choices"][0]["message"]["content"] == "hi"


def test_subclasses_are_bound_too() -> None:
    class MyFake(FakeLLM):
        pass

    fake = MyFake(family="httpx")
    assert isinstance(fake, MyFake) and fake.family == "httpx"
    assert isinstance(fake, httpx.BaseTransport)
    assert type(fake.with_family("httpx2")).__mro__[1] is MyFake


def test_a_bound_class_keeps_its_family() -> None:
    bound = type(FakeLLM(family="httpx"))
    with pytest.raises(ValueError, match="bound to 'httpx'"):
        bound(family="httpx2")
    assert bound().family == "httpx"


# -- determinism --------------------------------------------------------------------------------


def test_answers_are_identical_run_after_run() -> None:
    def run() -> list[bytes]:
        fake = FakeLLM()
        return [chat(fake).content, chat(fake, stream=True).content]

    assert run() == run()
    assert f'"created": {DEFAULT_CREATED}'.encode() in run()[0]


def test_the_clock_can_be_injected() -> None:
    assert chat(FakeLLM(clock=lambda: 1234.9)).json()["created"] == 1234


# -- fixture --------------------------------------------------------------------------------


def test_fixture_gives_a_fresh_fake(fake_llm: FakeLLM) -> None:
    assert isinstance(fake_llm, FakeLLM)
    assert fake_llm.calls == 0
    assert said(chat(fake_llm, "x")) == "This is a fake reply to: x"


@pytest.mark.fake_llm(["scripted"], family="httpx")
def test_fixture_marker_configures_it(fake_llm: FakeLLM) -> None:
    assert fake_llm.family == "httpx"
    assert said(chat(fake_llm)) == "scripted"


def test_imports_without_pytest() -> None:
    code = (
        "import sys; sys.modules['pytest'] = None\n"
        "import tokenbudget.testing as t\n"
        "fake = t.fake_llm()\n"
        "assert isinstance(fake, t.FakeLLM), fake\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_concurrent_requests_each_get_one_reply() -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake = FakeLLM([str(number) for number in range(40)])
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: said(chat(fake)), range(40)))

    assert sorted(replies, key=int) == [str(number) for number in range(40)]
    assert sorted(request.index for request in fake.requests) == list(range(40))


@pytest.mark.parametrize("stream", [False, True])
def test_an_empty_reply(stream: bool) -> None:
    fake = FakeLLM([""] * 3)
    gemini = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:"
    with httpx2.Client(transport=fake) as client:
        answers = [
            chat(fake, stream=stream),
            client.post(
                MESSAGES_URL,
                json={"model": "claude-sonnet-4-6", "max_tokens": 5, "stream": stream},
            ),
            client.post(
                gemini + ("streamGenerateContent?alt=sse" if stream else "generateContent"),
                json={"contents": []},
            ),
        ]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    if stream:
        assert answers[0].content.endswith(b"data: [DONE]\n\n")
        assert answers[1].content.endswith(b'data: {"type":"message_stop"}\n\n')
        assert b'"finishReason": "STOP"' in answers[2].content
    else:
        assert answers[0].json()["usage"]["completion_tokens"] == 0
        assert answers[1].json()["content"] == [{"type": "text", "text": ""}]
        assert answers[2].json()["usageMetadata"]["candidatesTokenCount"] == 0
