"""The fake Gemini API through the real ``google-genai`` SDK, both families, sync and async."""

from __future__ import annotations

from typing import Any

import pytest
from google import genai
from google.genai import errors, types

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM, FakeReply

from ..support import collect, resolve, tokens

MODEL = "gemini-2.5-flash"
SYSTEM = "You answer in one sentence."
QUESTION = "What is the capital of France?"
REPLY = "The capital of France is Paris, on the Seine."
PROMPT_TOKENS = tokens(SYSTEM, MODEL) + tokens(QUESTION, MODEL)
CONFIG = types.GenerateContentConfig(system_instruction=SYSTEM)


def make_models(fake: FakeLLM, mode: str) -> Any:
    """``client.models`` or ``client.aio.models`` of a genai client over ``fake``, tracked."""
    tracker = TokenTracker()
    options = types.HttpOptions(
        httpx_client=tracker.httpx_client(transport=fake),
        httpx_async_client=tracker.async_httpx_client(transport=fake),
    )
    client = genai.Client(api_key="fake-key", http_options=options)
    return client.aio.models if mode == "async" else client.models


async def test_generate_content(family: str, mode: str) -> None:
    fake = FakeLLM([REPLY], family=family)
    models = make_models(fake, mode)

    response = await resolve(models.generate_content(model=MODEL, contents=QUESTION, config=CONFIG))

    assert isinstance(response, types.GenerateContentResponse)
    assert response.text == REPLY
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.model_version == MODEL
    assert response.response_id
    usage = response.usage_metadata
    assert usage is not None
    assert usage.prompt_token_count == PROMPT_TOKENS
    assert usage.candidates_token_count == tokens(REPLY, MODEL)
    assert usage.total_token_count == PROMPT_TOKENS + tokens(REPLY, MODEL)
    assert fake.last_request is not None
    assert fake.last_request.url.endswith(f"/models/{MODEL}:generateContent")


async def test_generate_content_stream(family: str, mode: str) -> None:
    fake = FakeLLM([REPLY], family=family)
    models = make_models(fake, mode)

    stream = await resolve(
        models.generate_content_stream(model=MODEL, contents=QUESTION, config=CONFIG)
    )
    chunks = await collect(stream)

    assert len(chunks) > 1
    assert all(isinstance(chunk, types.GenerateContentResponse) for chunk in chunks)
    assert "".join(chunk.text or "" for chunk in chunks) == REPLY
    assert len({chunk.response_id for chunk in chunks}) == 1
    counts = [chunk.usage_metadata.candidates_token_count for chunk in chunks]
    assert counts == sorted(counts)  # cumulative
    last = chunks[-1]
    assert last.candidates is not None
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None
    assert last.usage_metadata.prompt_token_count == PROMPT_TOKENS
    assert last.usage_metadata.candidates_token_count == tokens(REPLY, MODEL)
    assert fake.last_request is not None
    assert fake.last_request.url.endswith(":streamGenerateContent?alt=sse")


async def test_thinking_and_cache_usage(family: str, mode: str) -> None:
    reply = FakeReply(
        text=REPLY, reasoning_tokens=12, cached_tokens=5, model="gemini-2.5-flash-001"
    )
    models = make_models(FakeLLM([reply], family=family), mode)

    response = await resolve(models.generate_content(model=MODEL, contents=QUESTION, config=CONFIG))

    usage = response.usage_metadata
    assert (usage.thoughts_token_count, usage.cached_content_token_count) == (12, 5)
    assert usage.total_token_count == PROMPT_TOKENS + tokens(REPLY, MODEL) + 12
    assert response.model_version == "gemini-2.5-flash-001"


async def test_count_tokens(family: str, mode: str) -> None:
    models = make_models(FakeLLM(family=family), mode)

    counted = await resolve(models.count_tokens(model=MODEL, contents=QUESTION))

    assert isinstance(counted, types.CountTokensResponse)
    assert counted.total_tokens == tokens(QUESTION, MODEL)


async def test_embed_content(family: str, mode: str) -> None:
    fake = FakeLLM(family=family)
    models = make_models(fake, mode)
    texts = ["tokens and money", "tokens and money", "something else"]

    result = await resolve(models.embed_content(model="gemini-embedding-001", contents=texts))
    small = await resolve(
        models.embed_content(
            model="gemini-embedding-001",
            contents="hi",
            config=types.EmbedContentConfig(output_dimensionality=8),
        )
    )

    assert isinstance(result, types.EmbedContentResponse)
    assert result.embeddings is not None
    vectors = [embedding.values for embedding in result.embeddings]
    assert [len(vector or []) for vector in vectors] == [3072, 3072, 3072]
    assert vectors[0] == vectors[1] != vectors[2]
    assert len(small.embeddings[0].values) == 8
    assert fake.requests[0].endpoint == "batch_embed_contents"


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (400, errors.ClientError, "INVALID_ARGUMENT"),
        (429, errors.ClientError, "RESOURCE_EXHAUSTED"),
        (500, errors.ServerError, "INTERNAL"),
        (503, errors.ServerError, "UNAVAILABLE"),
    ],
)
async def test_errors_raise_the_sdk_error(
    mode: str, status: int, error: type[errors.APIError], code: str
) -> None:
    models = make_models(FakeLLM([FakeReply(status=status, error_message="slow down")]), mode)

    with pytest.raises(error) as caught:
        await resolve(models.generate_content(model=MODEL, contents=QUESTION))

    assert (caught.value.code, caught.value.status, caught.value.message) == (
        status,
        code,
        "slow down",
    )


async def test_errors_in_a_stream_request(mode: str) -> None:
    models = make_models(FakeLLM([FakeReply(status=429)]), mode)

    with pytest.raises(errors.ClientError) as caught:
        stream = await resolve(models.generate_content_stream(model=MODEL, contents=QUESTION))
        await collect(stream)

    assert caught.value.code == 429
