"""Gemini and Vertex AI through the real google-genai SDK, on httpx and httpx2, sync and async."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from google import genai
from google.auth.credentials import Credentials
from google.genai import types

from tokenbudget import TokenTracker, Usage
from tokenbudget.providers import RequestView, count_text_tokens, default_registry
from tokenbudget.providers.google import normalise_gemini_usage, parse_model_path

from ..support import (
    StubBook,
    async_client,
    collect,
    fixture_bytes,
    fixture_json,
    module,
    resolve,
    sync_client,
)
from .helpers import JSON, SSE, Recorder

M = Decimal(1_000_000)


def gemini_routes() -> dict[str, Any]:
    return {
        ":generateContent": (fixture_bytes("google/generate_content.json"), JSON),
        ":streamGenerateContent?alt=sse": (
            fixture_bytes("google/stream_generate_content.sse"),
            SSE,
        ),
        ":batchEmbedContents": (fixture_bytes("google/batch_embed_contents.json"), JSON),
        ":countTokens": (fixture_bytes("google/count_tokens.json"), JSON),
    }


def gemini(tracker: TokenTracker, family: str, handler: Recorder, **kwargs: Any) -> genai.Client:
    options = types.HttpOptions(
        httpx_client=sync_client(tracker, family, handler),
        httpx_async_client=async_client(tracker, family, handler),
    )
    return genai.Client(api_key="test-key", http_options=options, **kwargs)


# -- normalisation ---------------------------------------------------------------------


def test_usage_metadata_conventions() -> None:
    usage = normalise_gemini_usage(fixture_json("google/generate_content.json")["usageMetadata"])
    assert usage == Usage(
        input_tokens=5120 + 180,  # promptTokenCount (includes cached) + toolUsePromptTokenCount
        output_tokens=212 + 390,  # candidatesTokenCount + thoughtsTokenCount
        cached_input_tokens=4096,
        reasoning_tokens=390,
        image_input_tokens=258,
    )
    assert usage.total_tokens == 5902  # the API's own totalTokenCount


def test_model_paths() -> None:
    assert parse_model_path("/v1beta/models/gemini-2.5-flash:generateContent") == (
        None,
        "gemini-2.5-flash",
        "generateContent",
    )
    vertex = "/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash-001"
    assert parse_model_path(vertex + ":streamGenerateContent") == (
        "google",
        "gemini-2.0-flash-001",
        "streamGenerateContent",
    )
    assert parse_model_path("/v1beta1/publishers/google/models/gemini-2.5-pro:countTokens") == (
        "google",
        "gemini-2.5-pro",
        "countTokens",
    )
    claude = "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-6"
    assert parse_model_path(claude + ":streamRawPredict") == (
        "anthropic",
        "claude-sonnet-4-6",
        "streamRawPredict",
    )
    tuned = "/v1/projects/p/locations/europe-west4/endpoints/8417551735:generateContent"
    assert parse_model_path(tuned) == (None, "8417551735", "generateContent")
    assert parse_model_path("/v1beta/tunedModels/my-tuned-7:generateContent") == (
        None,
        "my-tuned-7",
        "generateContent",
    )
    assert parse_model_path("/v1beta/models/gemini-2.5-flash") is None
    assert parse_model_path("/v1beta/files/abc-123:download") is None


@pytest.mark.parametrize(
    ("host", "path", "provider", "kind", "model", "stream", "billable"),
    [
        (
            "generativelanguage.googleapis.com",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            "google",
            "generate_content",
            "gemini-2.5-flash",
            True,
            True,
        ),
        (
            "europe-west4-aiplatform.googleapis.com",
            "/v1/projects/p/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent",
            "vertex",
            "generate_content",
            "gemini-2.5-pro",
            False,
            True,
        ),
        (
            "aiplatform.googleapis.com",
            "/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-flash:computeTokens",
            "vertex",
            "count_tokens",
            "gemini-2.5-flash",
            False,
            False,
        ),
        (
            "us-central1-aiplatform.googleapis.com",
            "/v1/projects/p/locations/us-central1/publishers/google/models/text-embedding-005:predict",
            "vertex",
            "embeddings",
            "text-embedding-005",
            False,
            True,
        ),
        (
            "us-east5-aiplatform.googleapis.com",
            "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-6:rawPredict",
            "vertex",
            "messages",
            "claude-sonnet-4-6",
            False,
            True,
        ),
        (
            "us-east5-aiplatform.googleapis.com",
            "/v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict",
            "vertex",
            "count_tokens",
            "claude-sonnet-4-6",
            False,
            False,
        ),
        (
            "aiplatform.eu.rep.googleapis.com",
            "/v1/projects/p/locations/eu/endpoints/openapi/chat/completions",
            "vertex",
            "chat",
            "google/gemini-2.5-flash",
            False,
            True,
        ),
        (
            "generativelanguage.googleapis.com",
            "/v1beta/openai/chat/completions",
            "google",
            "chat",
            "google/gemini-2.5-flash",
            False,
            True,
        ),
    ],
)
def test_endpoints(
    host: str, path: str, provider: str, kind: str, model: str, stream: bool, billable: bool
) -> None:
    body = json.dumps(
        {"model": "google/gemini-2.5-flash", "anthropic_version": "vertex-2023-10-16"}
    )
    if "anthropic" in path:
        body = json.dumps({"anthropic_version": "vertex-2023-10-16", "model": "claude-sonnet-4-6"})
    request = RequestView("POST", host, path, body=body.encode())
    endpoint = default_registry.match(request)
    assert endpoint is not None
    assert (endpoint.provider, endpoint.kind, endpoint.request_model) == (provider, kind, model)
    assert (endpoint.stream, endpoint.billable) == (stream, billable)


def test_other_google_requests_pass_through() -> None:
    for method, path in [
        ("GET", "/v1beta/models/gemini-2.5-flash"),
        ("POST", "/upload/v1beta/files"),
        ("POST", "/v1beta/models/imagen-4.0-generate-001:predict"),
        ("POST", "/v1beta/cachedContents"),
    ]:
        view = RequestView(method, "generativelanguage.googleapis.com", path, body=b"{}")
        assert default_registry.match(view) is None


# -- through the SDK ---------------------------------------------------------------------


def generate_cost() -> Decimal:
    # gemini-2.5-pro: $1.25 in, $0.125 cached, $10 out (thoughts are output).
    return ((5300 - 4096) * Decimal("1.25") + 4096 * Decimal("0.125") + 602 * 10) / M


def check_generate(tracker: TokenTracker) -> None:
    (record,) = tracker.records
    assert record.provider == "google"
    assert record.endpoint == "generate_content"
    assert record.model == "gemini-2.5-pro"  # modelVersion
    assert record.request_model == "gemini-2.5-pro"
    assert record.response_id == "kBXVaO-tDJqsxN8PgqKm-Q0"
    assert record.usage.input_tokens == 5300 and record.usage.output_tokens == 602
    assert not record.estimated
    assert record.cost_usd == generate_cost() == Decimal("0.008037")


async def test_generate_content(tracker: TokenTracker, family: str, mode: str) -> None:
    handler = Recorder(family, gemini_routes())
    client = gemini(tracker, family, handler)
    models = client.aio.models if mode == "async" else client.models
    answer = await resolve(
        models.generate_content(model="gemini-2.5-pro", contents="Describe this chart.")
    )
    assert answer.usage_metadata is not None
    assert answer.usage_metadata.thoughts_token_count == 390
    assert handler.requests[0].url.path == "/v1/models/gemini-2.5-pro:generateContent"
    check_generate(tracker)


def check_stream(tracker: TokenTracker, text: str) -> None:
    (record,) = tracker.records
    assert text.startswith("Olá! That is")
    assert record.stream and not record.estimated and record.error is None
    assert record.usage == Usage(input_tokens=54, output_tokens=31 + 62, reasoning_tokens=62)
    assert record.model == "gemini-2.5-flash"
    assert record.cost_usd == (54 * Decimal("0.30") + 93 * Decimal("2.50")) / M


async def test_stream_generate_content_sse(tracker: TokenTracker, family: str, mode: str) -> None:
    handler = Recorder(family, gemini_routes())
    client = gemini(tracker, family, handler)
    models = client.aio.models if mode == "async" else client.models
    chunks = await resolve(
        models.generate_content_stream(model="gemini-2.5-flash", contents="Say hi in Portuguese")
    )
    text = "".join(chunk.text or "" for chunk in await collect(chunks))
    assert str(handler.requests[0].url).endswith(":streamGenerateContent?alt=sse")
    check_stream(tracker, text)


def test_stream_as_json_array(tracker: TokenTracker, family: str) -> None:
    """Without ``alt=sse`` the stream is one JSON array of chunks; the last usage wins."""
    array = fixture_bytes("google/stream_generate_content_array.json")
    handler = Recorder(family, {":streamGenerateContent": (array, JSON)})
    client = sync_client(tracker, family, handler)
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    answer = client.post(url, json={"contents": [{"parts": [{"text": "A haiku about rain"}]}]})
    assert answer.content == array  # the caller got the bytes untouched
    (record,) = tracker.records
    assert record.stream and not record.estimated
    assert record.usage == Usage(input_tokens=9, output_tokens=24)
    assert record.cost_usd == (9 * Decimal("0.10") + 24 * Decimal("0.40")) / M


def test_embed_content_without_usage_is_counted(tracker: TokenTracker, family: str) -> None:
    handler = Recorder(family, gemini_routes())
    texts = ["What is the meaning of life?", "How do I bake bread?"]
    result = gemini(tracker, family, handler).models.embed_content(
        model="gemini-embedding-001", contents=texts
    )
    assert result.embeddings is not None and len(result.embeddings) == 2
    (record,) = tracker.records
    assert record.endpoint == "embeddings"
    assert record.estimated
    counted = sum(count_text_tokens(text, "gemini-embedding-001")[0] for text in texts)
    assert record.usage == Usage(
        input_tokens=counted, estimated=True, estimate_reason="the answer reported no usage"
    )
    assert record.cost_usd == counted * Decimal("0.15") / M


@pytest.mark.parametrize("is_async", [False, True])
async def test_count_tokens_is_free(tracker: TokenTracker, family: str, is_async: bool) -> None:
    handler = Recorder(family, gemini_routes())
    client = gemini(tracker, family, handler)
    if is_async:
        counted = await client.aio.models.count_tokens(model="gemini-2.5-flash", contents="hi")
    else:
        counted = client.models.count_tokens(model="gemini-2.5-flash", contents="hi")
    assert counted.total_tokens == 31
    (record,) = tracker.records
    assert record.endpoint == "count_tokens"
    assert record.usage == Usage() and record.cost_usd == 0


def test_stream_cut_short_keeps_reported_usage_and_counts_the_rest(
    tracker: TokenTracker, family: str
) -> None:
    data = fixture_bytes("google/stream_generate_content.sse")
    first_two = b"\r\n\r\n".join(data.split(b"\r\n\r\n")[:2]) + b"\r\n\r\n"
    handler = Recorder(family, {"alt=sse": (first_two, SSE)})
    chunks = gemini(tracker, family, handler).models.generate_content_stream(
        model="gemini-2.5-flash", contents="Say hi"
    )
    for _ in chunks:
        pass
    (record,) = tracker.records
    assert record.estimated
    assert record.usage.input_tokens == 54
    assert record.usage.reasoning_tokens == 62
    assert record.usage.output_tokens >= 65  # reported so far (3 + 62), or more as counted


# -- Vertex AI -----------------------------------------------------------------------------


def test_vertex_through_the_sdk(tracker: TokenTracker, family: str, book: StubBook) -> None:
    handler = Recorder(
        family, {":generateContent": (fixture_bytes("google/vertex_generate_content.json"), JSON)}
    )
    client = gemini(tracker, family, handler, vertexai=True)
    client.models.generate_content(model="gemini-2.0-flash-001", contents="A haiku about rain")
    request = handler.requests[0]
    assert request.url.host == "aiplatform.googleapis.com"
    assert (
        request.url.path == "/v1beta1/publishers/google/models/gemini-2.0-flash-001:generateContent"
    )
    (record,) = tracker.records
    assert record.provider == "vertex"
    assert record.model == "gemini-2.0-flash-001"
    assert record.usage == Usage(input_tokens=11, output_tokens=42)
    assert record.cost_usd == (11 * Decimal("0.15") + 42 * Decimal("0.60")) / M
    assert book.calls[-1]["provider"] == "vertex"


class StaticToken(Credentials):  # type: ignore[misc]
    """Credentials holding a fixed access token: no metadata server, no refresh."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = "ya29.test-token"

    def refresh(self, request: Any) -> None:
        pass


def test_vertex_project_paths_through_the_sdk(tracker: TokenTracker, family: str) -> None:
    handler = Recorder(
        family, {":generateContent": (fixture_bytes("google/vertex_generate_content.json"), JSON)}
    )
    options = types.HttpOptions(httpx_client=sync_client(tracker, family, handler))
    client = genai.Client(
        vertexai=True,
        project="acme-prod",
        location="europe-west4",
        credentials=StaticToken(),
        http_options=options,
    )
    client.models.generate_content(model="gemini-2.0-flash-001", contents="A haiku about rain")
    request = handler.requests[0]
    assert request.url.host == "europe-west4-aiplatform.googleapis.com"
    assert request.url.path.startswith("/v1beta1/projects/acme-prod/locations/europe-west4/")
    assert request.headers["authorization"] == "Bearer ya29.test-token"
    assert tracker.usage_by_provider["vertex"].output_tokens == 42


def test_vertex_anthropic_stream(tracker: TokenTracker, family: str) -> None:
    data = fixture_bytes("anthropic/messages_stream.sse")
    handler = Recorder(family, {":streamRawPredict": (data, SSE)})
    client = sync_client(tracker, family, handler)
    url = (
        "https://us-east5-aiplatform.googleapis.com/v1/projects/acme-prod/locations/us-east5"
        "/publishers/anthropic/models/claude-sonnet-4-6:streamRawPredict"
    )
    body = {
        "anthropic_version": "vertex-2023-10-16",
        "max_tokens": 1024,
        "stream": True,
        "messages": [{"role": "user", "content": "Say hi in Portuguese"}],
    }
    with client.stream("POST", url, json=body) as answer:
        assert b"".join(answer.iter_bytes()) == data
    (record,) = tracker.records
    assert (record.provider, record.endpoint, record.model) == (
        "vertex",
        "messages",
        "claude-sonnet-4-6",
    )
    assert record.usage.input_tokens == 2060 and record.usage.output_tokens == 87
    assert (
        record.cost_usd
        == (12 * Decimal("3.30") + 2048 * Decimal("0.33") + 87 * Decimal("16.50")) / M
    )


def test_vertex_predict_embeddings(tracker: TokenTracker, family: str) -> None:
    data = fixture_bytes("google/vertex_predict_embeddings.json")
    handler = Recorder(family, {":predict": (data, JSON)})
    client = sync_client(tracker, family, handler)
    url = (
        "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1"
        "/publishers/google/models/text-embedding-005:predict"
    )
    client.post(url, json={"instances": [{"content": "a cat"}, {"content": "a dog on a mat"}]})
    (record,) = tracker.records
    assert record.endpoint == "embeddings" and not record.estimated
    assert record.usage == Usage(input_tokens=6 + 9)
    assert record.cost_usd == 15 * Decimal("0.025") / M


# -- wrap_google ---------------------------------------------------------------------------


async def test_wrap_google_tracks_a_copy(tracker: TokenTracker, family: str, mode: str) -> None:
    handler = Recorder(family, gemini_routes())
    mod = module(family)
    original = genai.Client(
        api_key="test-key",
        http_options=types.HttpOptions(
            httpx_client=mod.Client(transport=mod.MockTransport(handler)),
            httpx_async_client=mod.AsyncClient(transport=mod.MockTransport(handler)),
        ),
    )
    wrapped = tracker.wrap_google(original)
    for client in (wrapped, original):
        models = client.aio.models if mode == "async" else client.models
        await resolve(
            models.generate_content(model="gemini-2.5-pro", contents="Describe this chart.")
        )
    assert len(handler.requests) == 2
    assert handler.requests[0].headers["x-goog-api-key"] == "test-key"
    assert tracker.usage.calls == 1
    check_generate(tracker)


def test_wrap_google_rejects_other_objects(tracker: TokenTracker) -> None:
    with pytest.raises(TypeError, match=r"google\.genai\.Client"):
        tracker.wrap_google(object())


# -- odd answers ---------------------------------------------------------------------------


def test_embed_content_with_usage_metadata(tracker: TokenTracker, family: str) -> None:
    answer = {
        "embedding": {"values": [0.0131911, -0.0093546, -0.0524722]},
        "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7},
        "truncated": False,
    }
    handler = Recorder(family, {":embedContent": (json.dumps(answer).encode(), JSON)})
    url = (
        "https://us-central1-aiplatform.googleapis.com/v1beta1/projects/p/locations/us-central1"
        "/publishers/google/models/gemini-embedding-001:embedContent"
    )
    sync_client(tracker, family, handler).post(
        url, json={"content": {"parts": [{"text": "a cat"}]}}
    )
    (record,) = tracker.records
    assert (record.provider, record.endpoint) == ("vertex", "embeddings")
    assert record.usage == Usage(input_tokens=7) and not record.estimated


def test_a_malformed_chunk_does_not_lose_the_rest(tracker: TokenTracker, family: str) -> None:
    data = fixture_bytes("google/stream_generate_content.sse")
    broken = b'data: {"candidates": [\r\n\r\n' + data
    handler = Recorder(family, {"alt=sse": (broken, SSE)})
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    with sync_client(tracker, family, handler).stream("POST", url, json={}) as answer:
        assert answer.read() == broken
    (record,) = tracker.records
    assert record.usage == Usage(input_tokens=54, output_tokens=93, reasoning_tokens=62)
    assert not record.estimated


def test_a_blocked_prompt_is_a_complete_answer(tracker: TokenTracker, family: str) -> None:
    blocked = {
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
        "modelVersion": "gemini-2.5-flash",
    }
    body = b"data: " + json.dumps(blocked).encode() + b"\r\n\r\n"
    handler = Recorder(family, {"alt=sse": (body, SSE)})
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    with sync_client(tracker, family, handler).stream("POST", url, json={}) as answer:
        answer.read()
    (record,) = tracker.records
    assert record.usage == Usage(input_tokens=12) and not record.estimated
