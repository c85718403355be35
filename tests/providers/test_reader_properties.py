"""Every provider reader, fed arbitrary JSON, raises nothing and yields only counts in range.

The values are drawn around each API's real field names (so that usage
objects, details, chunks and events are reached) with any JSON value in any
place: negative and huge integers, floats, NaN, infinities, strings, bools,
nulls, lists and objects. Each reader reads them as a whole body
(``on_body``/``on_json``) and as SSE events (``on_event``), then ``result()``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from tokenbudget import Usage
from tokenbudget._core import Endpoint, ServerSentEvent, UsageReader
from tokenbudget.providers import (
    MAX_TOKENS,
    AnthropicProvider,
    CustomProvider,
    GoogleProvider,
    OpenAIProvider,
    Provider,
)
from tokenbudget.providers.compatible import (
    CompatibleProvider,
    GroqProvider,
    normalise_deepseek_usage,
    normalise_openrouter_usage,
    normalise_perplexity_usage,
    normalise_xai_usage,
)
from tokenbudget.store import TOKEN_FIELDS

COUNTS = TOKEN_FIELDS  # every token count of a Usage


def test_the_ceiling_is_the_documented_one() -> None:
    assert MAX_TOKENS == 1_000_000_000  # README, "Errors and retries"


#: Field names of every API's answers, chunks, events and usage objects.
KEYS = [
    # OpenAI and compatible hosts
    "id", "model", "usage", "choices", "delta", "message", "content", "text", "refusal",
    "tool_calls", "function", "arguments", "finish_reason", "error", "service_tier",
    "prompt_tokens", "completion_tokens", "total_tokens", "input_tokens", "output_tokens",
    "prompt_tokens_details", "completion_tokens_details", "input_tokens_details",
    "output_tokens_details", "cached_tokens", "reasoning_tokens", "audio_tokens",
    "image_tokens", "type", "response", "output", "x_groq", "prompt_cache_hit_tokens",
    "prompt_cache_miss_tokens", "num_sources_used", "citation_tokens", "num_search_queries",
    "cost", "total_cost", "is_byok", "cost_details", "upstream_inference_cost",
    "cache_write_tokens", "reasoning_content",
    # Anthropic
    "cache_read_input_tokens", "cache_creation_input_tokens", "cache_creation",
    "ephemeral_1h_input_tokens", "thinking_tokens", "server_tool_use", "web_search_requests",
    "thinking", "partial_json", "stop_reason",
    # Gemini
    "candidates", "usageMetadata", "promptTokenCount", "candidatesTokenCount",
    "thoughtsTokenCount", "cachedContentTokenCount", "toolUsePromptTokenCount",
    "promptTokensDetails", "candidatesTokensDetails", "toolUsePromptTokensDetails",
    "modality", "tokenCount", "parts", "finishReason", "modelVersion", "responseId",
    "promptFeedback", "blockReason", "predictions", "embeddings", "statistics", "token_count",
    "functionCall", "status",
]  # fmt: skip
EVENT_TYPES = [
    "message_start", "content_block_delta", "message_delta", "message_stop", "error", "ping",
    "response.completed", "response.failed", "response.incomplete", "response.output_text.delta",
]  # fmt: skip

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from([*EVENT_TYPES, "AUDIO", "IMAGE", "TEXT", "stop", "gpt-4o", "[DONE]"])
)
_keys = st.sampled_from(KEYS) | st.text(max_size=4)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=6),
    max_leaves=30,
)
_flat = st.dictionaries(st.sampled_from(KEYS), _scalars, max_size=6)
#: Usage objects of every shape: known count names with any value, details objects too.
usage_objects = st.dictionaries(st.sampled_from(KEYS), _scalars | _flat, max_size=10)
_optional = st.fixed_dictionaries
#: Answers, chunks and events with a usage object where each API puts one.
shaped = _optional(
    {},
    optional={
        "type": st.sampled_from(EVENT_TYPES),
        "model": st.sampled_from(["gpt-4o", "claude-sonnet-4-6"]) | _scalars,
        "usage": usage_objects,
        "usageMetadata": usage_objects,
        "message": _optional({}, optional={"usage": usage_objects, "content": json_values}),
        "response": _optional({}, optional={"usage": usage_objects, "error": json_values}),
        "x_groq": _optional({}, optional={"usage": usage_objects}),
        "choices": json_values,
        "candidates": json_values,
        "predictions": st.lists(
            _optional({}, optional={"embeddings": _optional({}, optional={"statistics": _flat})})
        ),
        "delta": json_values,
    },
)
documents = shaped | st.dictionaries(_keys, json_values, max_size=8)


def _custom() -> CustomProvider:
    return CustomProvider(
        provider_name="custom",
        extract_model=lambda body: body["model"],
        extract_prompt_tokens=lambda body: body["usage"]["input_tokens"],
        extract_completion_tokens=lambda body: body["usage"]["output_tokens"],
        extract_cached_input_tokens=lambda body: body["usage"]["cached_tokens"],
    )


#: Each reader, by how it is built: (provider, endpoint kind).
READERS: dict[str, tuple[Callable[[], Provider], str]] = {
    "openai-chat": (OpenAIProvider, "chat"),
    "openai-responses": (OpenAIProvider, "responses"),
    "openai-embeddings": (OpenAIProvider, "embeddings"),
    "compatible": (lambda: CompatibleProvider("together"), "chat"),
    "deepseek": (
        lambda: CompatibleProvider("deepseek", normalise=normalise_deepseek_usage),
        "chat",
    ),
    "xai": (lambda: CompatibleProvider("xai", normalise=normalise_xai_usage), "chat"),
    "perplexity": (
        lambda: CompatibleProvider("perplexity", normalise=normalise_perplexity_usage),
        "chat",
    ),
    "openrouter": (
        lambda: CompatibleProvider("openrouter", normalise=normalise_openrouter_usage),
        "chat",
    ),
    "groq": (GroqProvider, "chat"),
    "anthropic": (AnthropicProvider, "messages"),
    "google": (GoogleProvider, "generate_content"),
    "google-embeddings": (GoogleProvider, "embeddings"),
    "custom": (_custom, "custom"),
}


def _reader(name: str, stream: bool) -> UsageReader:
    make, kind = READERS[name]
    provider = make()
    endpoint = Endpoint(provider.name, kind, provider, request_model="gpt-4o", stream=stream)
    return provider.reader(endpoint)


def _assert_in_range(usage: Usage | None) -> None:
    if usage is None:
        return
    for name in COUNTS:
        value = getattr(usage, name)
        assert type(value) is int and 0 <= value <= MAX_TOKENS, (name, value)
    for key, value in usage.extra.items():
        assert isinstance(key, str) and type(value) is int and 0 <= value <= MAX_TOKENS
    cost = usage.reported_cost_usd
    assert cost is None or (cost.is_finite() and 0 <= cost <= 2_000_000)
    if usage.estimated:
        assert usage.estimate_reason


_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", READERS)
@given(document=documents | json_values)
@_SETTINGS
def test_a_whole_body_never_raises(name: str, document: Any) -> None:
    reader = _reader(name, stream=False)
    reader.on_body(json.dumps(document).encode())
    _assert_in_range(reader.result().usage)


@pytest.mark.parametrize("name", READERS)
@given(
    chunks=st.lists(st.tuples(st.sampled_from(["message", *EVENT_TYPES]), documents), max_size=6)
)
@_SETTINGS
def test_stream_events_never_raise(name: str, chunks: list[tuple[str, Any]]) -> None:
    reader = _reader(name, stream=True)
    for event, document in chunks:
        reader.on_event(ServerSentEvent(event=event, data=json.dumps(document)))
        _assert_in_range(reader.observation.usage)
    reader.on_event(ServerSentEvent(data="[DONE]"))
    _assert_in_range(reader.result().usage)
