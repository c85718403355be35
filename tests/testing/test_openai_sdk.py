"""The fake OpenAI API through the real ``openai`` SDK, under a tracker, every family and mode."""

from __future__ import annotations

from typing import Any

import httpx
import httpx2
import openai
import pytest
from openai.types import Completion, CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseCompletedEvent, ResponseTextDeltaEvent

from tokenbudget import TokenTracker
from tokenbudget.providers.openai import count_chat_prompt, count_prompt, count_responses_prompt
from tokenbudget.testing import FakeLLM

from ..support import collect, resolve, tokens

MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You answer in one sentence."},
    {"role": "user", "content": "What is the capital of France?"},
]
REPLY = "The capital of France is Paris, on the Seine."


def make_client(fake: FakeLLM, mode: str) -> tuple[TokenTracker, Any]:
    """A tracker and an OpenAI client (sync or async) whose http client is tracked over ``fake``."""
    tracker = TokenTracker()
    if mode == "async":
        http = tracker.async_httpx_client(transport=fake)
        return tracker, openai.AsyncOpenAI(api_key="sk-fake", http_client=http, max_retries=0)
    http = tracker.httpx_client(transport=fake)
    return tracker, openai.OpenAI(api_key="sk-fake", http_client=http, max_retries=0)


def expected_client_class(family: str, mode: str) -> type[Any]:
    module: Any = httpx2 if family == "httpx2" else httpx
    return module.AsyncClient if mode == "async" else module.Client


async def test_the_client_is_of_the_fake_family(family: str, mode: str) -> None:
    _, client = make_client(FakeLLM(family=family), mode)
    assert type(client._client) is expected_client_class(family, mode)


async def test_chat_json(family: str, mode: str) -> None:
    fake = FakeLLM([REPLY], family=family)
    tracker, client = make_client(fake, mode)

    completion = await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES))

    assert isinstance(completion, ChatCompletion)
    assert completion.choices[0].message.content == REPLY
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == MODEL
    prompt, output = count_chat_prompt(MESSAGES, MODEL), tokens(REPLY, MODEL)
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (prompt, output)
    assert completion.usage.total_tokens == prompt + output
    assert (tracker.usage.calls, tracker.usage.input_tokens) == (1, prompt)
    assert tracker.usage.output_tokens == output


async def test_chat_stream_without_include_usage(family: str, mode: str) -> None:
    """The tracker asks for usage and hides it: the SDK sees the stream it asked for."""
    fake = FakeLLM([REPLY], family=family)
    tracker, client = make_client(fake, mode)

    stream = await resolve(
        client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    )
    chunks = await collect(stream)

    assert all(isinstance(chunk, ChatCompletionChunk) for chunk in chunks)
    assert all(chunk.usage is None and chunk.choices for chunk in chunks)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == REPLY
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len({chunk.id for chunk in chunks}) == 1
    assert fake.last_request is not None
    assert fake.last_request.body["stream_options"] == {"include_usage": True}  # injected
    prompt, output = count_chat_prompt(MESSAGES, MODEL), tokens(REPLY, MODEL)
    assert (tracker.usage.input_tokens, tracker.usage.output_tokens) == (prompt, output)
    assert tracker.usage.estimated_calls == 0


async def test_chat_stream_with_include_usage(family: str, mode: str) -> None:
    fake = FakeLLM([REPLY], family=family)
    tracker, client = make_client(fake, mode)

    stream = await resolve(
        client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    chunks = await collect(stream)

    *text_chunks, last = chunks
    assert last.choices == []
    assert last.usage is not None
    prompt, output = count_chat_prompt(MESSAGES, MODEL), tokens(REPLY, MODEL)
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (prompt, output)
    assert all(chunk.usage is None for chunk in text_chunks)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in text_chunks) == REPLY
    assert (tracker.usage.input_tokens, tracker.usage.output_tokens) == (prompt, output)


async def test_responses_json(family: str, mode: str) -> None:
    fake = FakeLLM([REPLY], family=family)
    tracker, client = make_client(fake, mode)
    instructions, prompt_text = "Answer briefly.", "What is the capital of France?"

    response = await resolve(
        client.responses.create(model=MODEL, instructions=instructions, input=prompt_text)
    )

    assert isinstance(response, Response)
    assert response.output_text == REPLY
    assert response.status == "completed"
    prompt = count_responses_prompt(instructions, prompt_text, MODEL)
    output = tokens(REPLY, MODEL)
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (prompt, output)
    assert (tracker.usage.input_tokens, tracker.usage.output_tokens) == (prompt, output)


async def test_responses_stream(family: str, mode: str) -> None:
    fake = FakeLLM([REPLY], family=family)
    tracker, client = make_client(fake, mode)
    items = [{"role": "user", "content": "What is the capital of France?"}]

    stream = await resolve(client.responses.create(model=MODEL, input=items, stream=True))
    events = await collect(stream)

    assert [event.type for event in events[:4]] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert [event.type for event in events[-4:]] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = [event.delta for event in events if isinstance(event, ResponseTextDeltaEvent)]
    assert "".join(deltas) == REPLY
    completed = events[-1]
    assert isinstance(completed, ResponseCompletedEvent)
    assert completed.response.output_text == REPLY
    usage = completed.response.usage
    assert usage is not None
    prompt, output = count_responses_prompt(None, items, MODEL), tokens(REPLY, MODEL)
    assert (usage.input_tokens, usage.output_tokens) == (prompt, output)
    assert (tracker.usage.input_tokens, tracker.usage.output_tokens) == (prompt, output)


async def test_responses_stream_helper(mode: str) -> None:
    """The SDK's own stream manager accumulates the fake's events into a final response."""
    _, client = make_client(FakeLLM([REPLY]), mode)
    if mode == "async":
        async with client.responses.stream(model=MODEL, input="Capital of France?") as stream:
            final = await stream.get_final_response()
    else:
        with client.responses.stream(model=MODEL, input="Capital of France?") as stream:
            final = stream.get_final_response()
    assert final.output_text == REPLY


async def test_embeddings(family: str, mode: str) -> None:
    fake = FakeLLM(family=family)
    tracker, client = make_client(fake, mode)
    inputs = ["tokens and money", "tokens and money", "something else"]

    result = await resolve(client.embeddings.create(model="text-embedding-3-small", input=inputs))
    floats = await resolve(
        client.embeddings.create(
            model="text-embedding-3-small", input=inputs, encoding_format="float"
        )
    )

    assert isinstance(result, CreateEmbeddingResponse)
    assert [item.index for item in result.data] == [0, 1, 2]
    assert all(len(item.embedding) == 1536 for item in result.data)
    assert result.data[0].embedding == result.data[1].embedding != result.data[2].embedding
    assert [item.embedding for item in floats.data] == [item.embedding for item in result.data]
    assert sum(value * value for value in result.data[0].embedding) == pytest.approx(1.0, abs=1e-4)
    assert fake.requests[0].body["encoding_format"] == "base64"  # the SDK's default
    prompt = count_prompt(inputs, "text-embedding-3-small")
    assert result.usage.prompt_tokens == result.usage.total_tokens == prompt
    assert (tracker.usage.input_tokens, tracker.usage.output_tokens) == (2 * prompt, 0)


async def test_embeddings_dimensions(mode: str) -> None:
    _, client = make_client(FakeLLM(), mode)
    result = await resolve(
        client.embeddings.create(model="text-embedding-3-large", input="hi", dimensions=64)
    )
    assert len(result.data[0].embedding) == 64


async def test_legacy_completions(family: str, mode: str) -> None:
    fake = FakeLLM(["Paris.", "Paris, France."], family=family)
    tracker, client = make_client(fake, mode)
    model, prompt_text = "gpt-3.5-turbo-instruct", "The capital of France is"

    completion = await resolve(client.completions.create(model=model, prompt=prompt_text))
    stream = await resolve(client.completions.create(model=model, prompt=prompt_text, stream=True))
    chunks = await collect(stream)

    assert isinstance(completion, Completion)
    assert completion.choices[0].text == "Paris."
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == count_prompt(prompt_text, model)
    assert completion.usage.completion_tokens == tokens("Paris.", model)
    assert all(isinstance(chunk, Completion) for chunk in chunks)
    assert "".join(chunk.choices[0].text for chunk in chunks) == "Paris, France."
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert tracker.usage.calls == 2


async def test_a_rate_limit_raises_the_sdk_error(family: str, mode: str) -> None:
    from tokenbudget.testing import FakeReply

    fake = FakeLLM([FakeReply(status=429, headers={"retry-after": "0"})], family=family)
    tracker, client = make_client(fake, mode)

    with pytest.raises(openai.RateLimitError) as caught:
        await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES))

    assert caught.value.status_code == 429
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.type == "requests"
    assert caught.value.request_id is not None and caught.value.request_id.startswith("req_")
    assert fake.calls == 1  # max_retries=0: no retry
    assert tracker.usage.calls == 1
    assert tracker.usage.cost_usd == 0


async def test_azure_deployment_path(mode: str) -> None:
    """Azure names the deployment in the path; the fake answers for it at any host."""
    fake = FakeLLM([REPLY])
    tracker = TokenTracker()
    kwargs: dict[str, Any] = {
        "api_key": "fake",
        "api_version": "2024-10-21",
        "azure_endpoint": "https://example.openai.azure.com",
        "max_retries": 0,
    }
    if mode == "async":
        client: Any = openai.AsyncAzureOpenAI(
            http_client=tracker.async_httpx_client(transport=fake), **kwargs
        )
    else:
        client = openai.AzureOpenAI(http_client=tracker.httpx_client(transport=fake), **kwargs)

    completion = await resolve(client.chat.completions.create(model="my-gpt", messages=MESSAGES))

    assert completion.choices[0].message.content == REPLY
    assert fake.last_request is not None
    assert "/openai/deployments/my-gpt/chat/completions" in fake.last_request.url
    assert tracker.usage.calls == 1
