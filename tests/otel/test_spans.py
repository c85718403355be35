"""Span attributes of calls through real SDK clients, read back from the in-memory exporter."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.trace import SpanKind, StatusCode

from tokenbudget import CallRecord, TokenTracker
from tokenbudget.testing import FakeLLM, FakeReply

from ..support import collect, resolve
from .helpers import Otel, without

QUESTION = "What is the capital of France? sk-secret-question " + "Answer briefly. " * 20
MESSAGES = [{"role": "user", "content": QUESTION}]
ANSWER = "Paris, said the model."


def anthropic_client(tracker: TokenTracker, fake: FakeLLM, mode: str = "sync") -> Any:
    if mode == "async":
        http = tracker.async_httpx_client(transport=fake)
        return anthropic.AsyncAnthropic(api_key="sk-ant-key-1", http_client=http, max_retries=0)
    http = tracker.httpx_client(transport=fake)
    return anthropic.Anthropic(api_key="sk-ant-key-1", http_client=http, max_retries=0)


def expected(record: CallRecord, **more: Any) -> dict[str, Any]:
    usage = record.usage
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-6",
        "gen_ai.response.model": record.model,
        "gen_ai.response.id": record.response_id,
        "gen_ai.usage.input_tokens": usage.input_tokens,
        "gen_ai.usage.output_tokens": usage.output_tokens,
        "tokenbudget.cost_usd": float(record.cost_usd),  # type: ignore[arg-type]
        "tokenbudget.estimated": False,
        "tokenbudget.cache_hit": False,
        "tokenbudget.stream": record.stream,
        **more,
    }


CACHING = FakeReply(ANSWER, cached_tokens=12, cache_write_tokens=20)


async def test_current_span_gets_the_call_attributes(otel: Otel, mode: str) -> None:
    tracker = TokenTracker()
    otel.instrument(tracker)
    fake = FakeLLM([FakeReply(ANSWER, cached_tokens=12, reasoning_tokens=7)])
    http = tracker.async_httpx_client(transport=fake) if mode == "async" else None
    http = http or tracker.httpx_client(transport=fake)
    make = openai.AsyncOpenAI if mode == "async" else openai.OpenAI
    client = make(api_key="sk-proj-key-2", http_client=http, max_retries=0)
    with otel.tracer.start_as_current_span("handle request"):
        await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    record = tracker.last_record
    assert record is not None and record.usage.reasoning_tokens == 7
    (span,) = otel.spans()
    assert span.name == "handle request"
    assert span.status.status_code is StatusCode.UNSET  # the caller's to set
    assert dict(span.attributes or {}) == {
        **expected(record),
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.cache_read.input_tokens": 12,
        "gen_ai.usage.reasoning.output_tokens": 7,
    }


def test_the_anthropic_sdks_own_call_span_gets_them(otel: Otel) -> None:
    """anthropic 2.x makes a CLIENT span per call and makes it current: ours go on it."""
    tracker = TokenTracker()
    otel.instrument(tracker)
    http = tracker.httpx_client(transport=FakeLLM([CACHING]))
    client = anthropic.Anthropic(
        api_key="sk-ant-key-1",
        http_client=http,
        max_retries=0,
        open_telemetry={"tracer_provider": otel.tracer_provider},
    )
    client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES)
    record = tracker.last_record
    assert record is not None
    assert (record.usage.cached_input_tokens, record.usage.cache_write_tokens) == (12, 20)
    (span,) = otel.spans()
    assert span.kind is SpanKind.CLIENT and span.name == "anthropic.messages.create"
    ours = expected(
        record,
        **{
            "gen_ai.usage.cache_read.input_tokens": 12,
            "gen_ai.usage.cache_write.input_tokens": 20,
            "gen_ai.usage.cache_creation.input_tokens": 20,
        },
    )
    assert {name: (span.attributes or {}).get(name) for name in ours} == ours


async def test_client_span_per_call_stream(otel: Otel, mode: str) -> None:
    tracker = TokenTracker()
    otel.instrument(tracker, spans="client")
    client = anthropic_client(tracker, FakeLLM([ANSWER]), mode)
    with otel.tracer.start_as_current_span("parent") as parent:
        stream = await resolve(
            client.messages.create(
                model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES, stream=True
            )
        )
        await collect(stream)
    record = tracker.last_record
    assert record is not None and record.first_chunk_ms is not None
    call, outer = otel.spans()
    assert outer.name == "parent" and not outer.attributes
    assert call.name == "chat claude-sonnet-4-6"
    assert call.kind is SpanKind.CLIENT
    assert call.parent is not None
    assert call.parent.span_id == parent.get_span_context().span_id
    assert call.status.status_code is StatusCode.UNSET
    assert dict(call.attributes or {}) == expected(
        record, **{"tokenbudget.time_to_first_chunk_s": record.first_chunk_ms / 1000}
    )
    assert call.start_time == int(record.timestamp.timestamp() * 1e9)
    assert call.end_time - call.start_time == int(record.latency_ms * 1e6)  # type: ignore[operator]


def test_client_span_of_a_failed_call(otel: Otel) -> None:
    tracker = TokenTracker()
    otel.instrument(tracker, spans="client")
    client = anthropic_client(tracker, FakeLLM([FakeReply(status=529)]))
    with pytest.raises(anthropic.APIStatusError):
        client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES)
    (span,) = otel.spans()
    assert span.status.status_code is StatusCode.ERROR
    attributes = dict(span.attributes or {})
    assert attributes["error.type"] == "529"
    assert "gen_ai.usage.input_tokens" not in attributes  # nothing billed
    assert attributes["tokenbudget.cost_usd"] == 0.0


def test_estimated_and_cache_hit_flags(otel: Otel) -> None:
    tracker = TokenTracker(cache="memory")
    otel.instrument(tracker, spans="client", metrics=False)
    http = tracker.httpx_client(transport=FakeLLM([ANSWER], when_exhausted="repeat"))
    client = openai.OpenAI(api_key="sk-proj-key-2", http_client=http, max_retries=0)
    for _ in range(2):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    first, hit = otel.spans()
    assert first.attributes is not None and hit.attributes is not None
    assert first.attributes["tokenbudget.cache_hit"] is False
    assert hit.attributes["tokenbudget.cache_hit"] is True
    assert hit.attributes["tokenbudget.cost_usd"] == 0.0
    assert hit.attributes["tokenbudget.saved_cost_usd"] == first.attributes["tokenbudget.cost_usd"]
    assert "gen_ai.usage.input_tokens" not in hit.attributes
    assert "gen_ai.client.operation.duration" not in otel.metrics()  # metrics=False


def test_no_span_attributes_without_a_recording_span(otel: Otel) -> None:
    tracker = TokenTracker()
    otel.instrument(tracker)
    client = anthropic_client(tracker, FakeLLM([ANSWER]))
    client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES)
    assert otel.spans() == []
    assert "gen_ai.client.operation.duration" in otel.metrics()


def test_latest_conventions_only(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    tracker = TokenTracker()
    otel.instrument(tracker, spans="client")
    client = anthropic_client(tracker, FakeLLM([ANSWER]))
    client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES)
    record = tracker.last_record
    assert record is not None
    (span,) = otel.spans()
    assert dict(span.attributes or {}) == without(expected(record), "gen_ai.system")


def test_no_prompt_answer_or_key_is_exported(otel: Otel) -> None:
    tracker = TokenTracker()
    otel.instrument(tracker, spans="client", tags=["feature"])
    client = anthropic_client(tracker, FakeLLM([ANSWER, FakeReply(status=400)]))
    client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES)
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES)
    exported = [str(value) for span in otel.spans() for value in (span.attributes or {}).values()]
    for metric in otel.metrics().values():
        for point in metric.data.data_points:
            exported.extend(str(value) for value in point.attributes.values())
    text = " ".join(exported)
    for secret in ("sk-ant-key-1", "capital of France", "sk-secret-question", "Paris"):
        assert secret not in text
