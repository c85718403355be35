"""The raw bytes the fake sends, validated strictly against the SDKs' own types.

The SDKs build their objects leniently (a missing field is just absent), so these
tests validate every body and event with pydantic against the SDK types, and
check the framing the real APIs use.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pydantic
import pytest
from anthropic.types import Message, RawMessageStreamEvent
from google.genai import types as gtypes
from openai.types import Completion, CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent

from tokenbudget.testing import FakeLLM, FakeReply

OPENAI = "https://api.openai.com/v1"
ANTHROPIC = "https://api.anthropic.com/v1"
GEMINI = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash"
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hi to the world"}]}
MESSAGES = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Say hi to the world"}],
}
CONTENTS = {"contents": [{"role": "user", "parts": [{"text": "Say hi to the world"}]}]}
REPLY = "Hello, world! Nice to meet you."


def post(fake: FakeLLM, url: str, body: Any) -> httpx2.Response:
    with httpx2.Client(transport=fake) as client:
        return client.post(url, json=body)


def data_lines(body: bytes, separator: bytes = b"\n\n") -> list[str]:
    """The ``data:`` payloads of an SSE body whose events end with ``separator``."""
    assert body.endswith(separator)
    events = body[: -len(separator)].split(separator)
    payloads = []
    for event in events:
        lines = event.decode().split(separator[:-1].decode() or "\n")
        payloads.extend(line[len("data: ") :] for line in lines if line.startswith("data: "))
    return payloads


def named_events(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` of an SSE body with ``event:`` lines."""
    out = []
    for event in body.decode().split("\n\n")[:-1]:
        name, data = event.split("\n")
        assert name.startswith("event: ") and data.startswith("data: ")
        out.append((name[len("event: ") :], json.loads(data[len("data: ") :])))
    return out


# -- OpenAI ------------------------------------------------------------------------------


def test_chat_json_is_pretty_and_valid() -> None:
    response = post(FakeLLM([REPLY]), f"{OPENAI}/chat/completions", CHAT)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["x-request-id"].startswith("req_")
    assert response.content.startswith(b'{\n  "id": "chatcmpl-')
    completion = ChatCompletion.model_validate_json(response.content)
    assert len(completion.id) == len("chatcmpl-") + 29
    assert completion.object == "chat.completion"
    assert completion.system_fingerprint is not None
    assert completion.system_fingerprint.startswith("fp_")
    assert completion.service_tier == "default"
    assert completion.choices[0].message.content == REPLY


def test_chat_stream_without_usage_has_no_usage_field() -> None:
    response = post(FakeLLM([REPLY]), f"{OPENAI}/chat/completions", {**CHAT, "stream": True})

    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert "content-length" not in response.headers
    *payloads, done = data_lines(response.content)
    assert done == "[DONE]"
    chunks = [json.loads(payload) for payload in payloads]
    assert all("usage" not in chunk and "obfuscation" in chunk for chunk in chunks)
    assert list(chunks[0]) == [
        "id",
        "object",
        "created",
        "model",
        "service_tier",
        "system_fingerprint",
        "choices",
        "obfuscation",
    ]
    validated = [ChatCompletionChunk.model_validate(chunk) for chunk in chunks]
    assert validated[0].choices[0].delta.role == "assistant"
    assert "".join(chunk.choices[0].delta.content or "" for chunk in validated) == REPLY
    assert validated[-1].choices[0].delta.content is None
    assert validated[-1].choices[0].finish_reason == "stop"


def test_chat_stream_with_usage_and_without_obfuscation() -> None:
    options = {"include_usage": True, "include_obfuscation": False}
    body = {**CHAT, "stream": True, "stream_options": options}
    response = post(FakeLLM([REPLY]), f"{OPENAI}/chat/completions", body)

    *payloads, done = data_lines(response.content)
    chunks = [json.loads(payload) for payload in payloads]
    assert done == "[DONE]"
    assert all("obfuscation" not in chunk for chunk in chunks)
    assert all(chunk["usage"] is None for chunk in chunks[:-1])
    assert b',"usage":null}' in response.content
    last = ChatCompletionChunk.model_validate(chunks[-1])
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.completion_tokens > 0


def test_chat_several_choices() -> None:
    response = post(FakeLLM(reply=REPLY), f"{OPENAI}/chat/completions", {**CHAT, "n": 2})

    completion = ChatCompletion.model_validate_json(response.content)
    assert [choice.index for choice in completion.choices] == [0, 1]
    assert completion.usage is not None
    single = post(FakeLLM(reply=REPLY), f"{OPENAI}/chat/completions", CHAT).json()
    assert completion.usage.completion_tokens == 2 * single["usage"]["completion_tokens"]


def test_responses_json_is_valid() -> None:
    body = {"model": "gpt-4o", "input": "Say hi", "instructions": "Be nice", "temperature": 0.5}
    response = post(FakeLLM([REPLY]), f"{OPENAI}/responses", body)

    parsed = Response.model_validate_json(response.content)
    assert parsed.id.startswith("resp_")
    assert (parsed.status, parsed.output_text) == ("completed", REPLY)
    assert (parsed.instructions, parsed.temperature) == ("Be nice", 0.5)
    assert parsed.usage is not None
    assert parsed.usage.input_tokens_details.cached_tokens == 0


def test_responses_stream_events_are_valid_and_named() -> None:
    body = {"model": "o4-mini", "input": "Say hi", "stream": True}
    reply = FakeReply(text=REPLY, reasoning_tokens=7)
    response = post(FakeLLM([reply]), f"{OPENAI}/responses", body)

    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)
    events = named_events(response.content)
    assert all(name == data["type"] for name, data in events)
    parsed = [adapter.validate_python(data) for _, data in events]
    assert [event.sequence_number for event in parsed] == list(range(len(parsed)))
    assert [event.type for event in parsed[:4]] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",  # the reasoning item
        "response.output_item.done",
    ]
    assert parsed[2].item.type == "reasoning"
    assert parsed[0].response.status == "in_progress"
    assert parsed[0].response.usage is None
    final = parsed[-1]
    assert final.type == "response.completed"
    assert [item.type for item in final.response.output] == ["reasoning", "message"]
    assert final.response.usage.output_tokens_details.reasoning_tokens == 7


def test_responses_cut_by_max_output_tokens_is_incomplete() -> None:
    body = {"model": "gpt-4o", "input": "Say hi", "max_output_tokens": 3, "stream": True}
    response = post(FakeLLM([REPLY]), f"{OPENAI}/responses", body)

    name, data = named_events(response.content)[-1]
    final = Response.model_validate(data["response"])
    assert name == "response.incomplete"
    assert final.status == "incomplete"
    assert final.incomplete_details is not None
    assert final.incomplete_details.reason == "max_output_tokens"
    assert final.usage is not None
    assert final.usage.output_tokens <= 3
    assert REPLY.startswith(final.output_text)


def test_completions_json_and_stream_are_valid() -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi", "max_tokens": 4}
    fake = FakeLLM(reply=REPLY)
    completion = Completion.model_validate_json(post(fake, f"{OPENAI}/completions", body).content)
    streamed = post(fake, f"{OPENAI}/completions", {**body, "stream": True})

    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 4
    *payloads, done = data_lines(streamed.content)
    chunks = [json.loads(payload) for payload in payloads]
    assert done == "[DONE]"
    assert "".join(chunk["choices"][0]["text"] for chunk in chunks) == completion.choices[0].text
    # Real stream chunks say "finish_reason": null, which the SDK type (meant for
    # whole bodies) does not allow: validate the others with the final reason.
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks[:-1])
    for chunk in chunks:
        chunk["choices"][0]["finish_reason"] = chunk["choices"][0]["finish_reason"] or "stop"
        Completion.model_validate(chunk)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_embeddings_float_and_base64_decode_alike() -> None:
    import base64
    import struct

    fake = FakeLLM()
    body = {"model": "text-embedding-3-small", "input": [[1, 2, 3], "hi"], "dimensions": 4}
    floats = CreateEmbeddingResponse.model_validate_json(
        post(fake, f"{OPENAI}/embeddings", body).content
    )
    encoded = post(fake, f"{OPENAI}/embeddings", {**body, "encoding_format": "base64"}).json()

    decoded = struct.unpack("<4f", base64.b64decode(encoded["data"][1]["embedding"]))
    assert list(decoded) == floats.data[1].embedding
    assert floats.usage.prompt_tokens == 3 + 1  # token ids count as they are


# -- Anthropic ------------------------------------------------------------------------------


def test_messages_json_is_compact_and_valid() -> None:
    response = post(FakeLLM([REPLY]), f"{ANTHROPIC}/messages", MESSAGES)

    assert response.content.startswith(b'{"id":"msg_01')
    assert response.headers["request-id"].startswith("req_01")
    message = Message.model_validate_json(response.content)
    assert message.content[0].type == "text"
    assert message.content[0].text == REPLY


def test_messages_stream_events_are_valid_and_ordered() -> None:
    response = post(FakeLLM([REPLY]), f"{ANTHROPIC}/messages", {**MESSAGES, "stream": True})

    events = named_events(response.content)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert b'event: ping\ndata: {"type": "ping"}\n\n' in response.content
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(RawMessageStreamEvent)
    parsed = [adapter.validate_python(data) for name, data in events if name != "ping"]
    assert all(name == data["type"] for name, data in events)
    assert parsed[0].message.usage.output_tokens == 1
    assert parsed[-2].usage.output_tokens > 1


def test_messages_cut_by_max_tokens() -> None:
    response = post(FakeLLM([REPLY]), f"{ANTHROPIC}/messages", {**MESSAGES, "max_tokens": 2})

    message = Message.model_validate_json(response.content)
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens <= 2


# -- Gemini --------------------------------------------------------------------------------


def test_generate_content_json_is_valid() -> None:
    response = post(FakeLLM([REPLY]), f"{GEMINI}:generateContent", CONTENTS)

    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    assert response.content.startswith(b'{\n  "candidates": [')
    parsed = gtypes.GenerateContentResponse.model_validate(response.json())  # extra=forbid
    assert parsed.text == REPLY


def test_stream_generate_content_sse_uses_crlf() -> None:
    url = f"{GEMINI}:streamGenerateContent?alt=sse"
    response = post(FakeLLM([FakeReply(text=REPLY, reasoning_tokens=3)]), url, CONTENTS)

    assert response.headers["content-type"] == "text/event-stream"
    payloads = data_lines(response.content, b"\r\n\r\n")
    assert (
        '"candidates": [{"content": {"parts": [{"text": "Hello,"}],"role": "model"}' in payloads[0]
    )
    chunks = [gtypes.GenerateContentResponse.model_validate(json.loads(p)) for p in payloads]
    assert "".join(chunk.text or "" for chunk in chunks) == REPLY
    assert all(chunk.usage_metadata.thoughts_token_count == 3 for chunk in chunks)
    assert chunks[-1].candidates[0].finish_reason == gtypes.FinishReason.STOP
    assert all(chunk.candidates[0].finish_reason is None for chunk in chunks[:-1])


def test_stream_generate_content_without_sse_is_a_json_array() -> None:
    response = post(FakeLLM([REPLY]), f"{GEMINI}:streamGenerateContent", CONTENTS)

    assert response.content.startswith(b"[{\n") and response.content.endswith(b"}\n]")
    assert b"}\n,\r\n{" in response.content
    chunks = [gtypes.GenerateContentResponse.model_validate(item) for item in response.json()]
    assert "".join(chunk.text or "" for chunk in chunks) == REPLY


def test_generate_content_cut_by_max_output_tokens() -> None:
    body = {**CONTENTS, "generationConfig": {"maxOutputTokens": 2}}
    parsed = gtypes.GenerateContentResponse.model_validate(
        post(FakeLLM([REPLY]), f"{GEMINI}:generateContent", body).json()
    )
    assert parsed.candidates[0].finish_reason == gtypes.FinishReason.MAX_TOKENS
    assert parsed.usage_metadata.candidates_token_count <= 2


def test_embed_and_count_tokens_are_valid() -> None:
    fake = FakeLLM()
    model = "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001"
    single = post(fake, f"{model}:embedContent", {"content": {"parts": [{"text": "hi"}]}})
    batch = post(
        fake,
        f"{model}:batchEmbedContents",
        {"requests": [{"content": {"parts": [{"text": "hi"}]}, "outputDimensionality": 4}]},
    )
    counted = post(fake, f"{GEMINI}:countTokens", CONTENTS).json()

    assert (
        len(gtypes.SingleEmbedContentResponse.model_validate(single.json()).embedding.values)
        == 3072
    )
    vectors = gtypes.EmbedContentResponse.model_validate(batch.json()).embeddings
    assert len(vectors[0].values) == 4
    assert counted["promptTokensDetails"] == [
        {"modality": "TEXT", "tokenCount": counted["totalTokens"]}
    ]


# -- errors and unknown requests ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "expected"),
    [
        (f"{OPENAI}/chat/completions", CHAT, {"error": {"message": "m", "type": "requests"}}),
        (
            f"{ANTHROPIC}/messages",
            MESSAGES,
            {"type": "error", "error": {"type": "rate_limit_error"}},
        ),
        (
            f"{GEMINI}:generateContent",
            CONTENTS,
            {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}},
        ),
    ],
)
def test_error_bodies_are_in_each_provider_format(url: str, body: Any, expected: Any) -> None:
    response = post(FakeLLM([FakeReply(status=429, error_message="m")]), url, body)

    assert response.status_code == 429
    document = response.json()
    for key, value in expected.items():
        if isinstance(value, dict):
            assert value.items() <= document[key].items()
        else:
            assert document[key] == value


@pytest.mark.parametrize(
    ("url", "headers", "shape"),
    [
        ("https://api.openai.com/v1/unknown", {}, "openai"),
        ("https://api.anthropic.com/v1/unknown", {"anthropic-version": "2023-06-01"}, "anthropic"),
        (f"{GEMINI}:unknownMethod", {}, "gemini"),
    ],
)
def test_unknown_paths_get_a_404_in_the_provider_format(
    url: str, headers: dict[str, str], shape: str
) -> None:
    fake = FakeLLM()
    with httpx2.Client(transport=fake) as client:
        response = client.post(url, json={}, headers=headers)

    assert response.status_code == 404
    document = response.json()
    if shape == "openai":
        assert document["error"]["code"] == "unknown_url"
        assert document["error"]["message"] == "Invalid URL (POST /v1/unknown)"
    elif shape == "anthropic":
        assert document["error"]["type"] == "not_found_error"
    else:
        assert document["error"]["status"] == "NOT_FOUND"
    assert fake.requests[0].endpoint == "unknown"
    assert fake.requests[0].provider == shape


def test_a_get_on_a_known_path_is_unknown() -> None:
    with httpx2.Client(transport=FakeLLM()) as client:
        assert client.get(f"{OPENAI}/chat/completions").status_code == 404


def test_bad_json_and_missing_model_are_400() -> None:
    fake = FakeLLM()
    with httpx2.Client(transport=fake) as client:
        bad = client.post(f"{OPENAI}/chat/completions", content=b"{not json")
        no_model = client.post(f"{ANTHROPIC}/messages", json={"messages": []})

    assert bad.status_code == no_model.status_code == 400
    assert "parse the JSON body" in bad.json()["error"]["message"]
    assert no_model.json()["error"]["type"] == "invalid_request_error"
    assert fake.calls == 2
