"""GenAI metrics of calls through real SDK clients, read back from the in-memory reader."""

from __future__ import annotations

import gc
import time
import weakref
from typing import Any

import anthropic
import httpx2
import openai
import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace

import tokenbudget
import tokenbudget.otel
from tokenbudget import Budget, CallRecord, TokenTracker
from tokenbudget.otel import DURATION_BUCKETS, TOKEN_BUCKETS
from tokenbudget.testing import FakeLLM, FakeReply

from ..loopback import LoopbackServer, chat_chunk, start_response
from ..support import collect, resolve
from .helpers import Otel, by_token_type, histogram_points, number_points, without

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def openai_client(tracker: TokenTracker, fake: Any, mode: str = "sync") -> Any:
    if mode == "async":
        http = tracker.async_httpx_client(transport=fake)
        return openai.AsyncOpenAI(api_key="sk-fake", http_client=http, max_retries=0)
    http = tracker.httpx_client(transport=fake)
    return openai.OpenAI(api_key="sk-fake", http_client=http, max_retries=0)


def chat(client: Any, **extra: Any) -> Any:
    return client.chat.completions.create(model=MODEL, messages=MESSAGES, **extra)


def base_attributes(record: CallRecord) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": record.model,
    }


async def test_json_call_token_usage_duration_and_cost(otel: Otel, mode: str) -> None:
    tracker = TokenTracker()
    otel.instrument(tracker)
    await resolve(chat(openai_client(tracker, FakeLLM(["Paris."]), mode)))
    record = tracker.last_record
    assert record is not None and record.cost_usd is not None and record.cost_usd > 0

    metrics = otel.metrics()
    usage = metrics["gen_ai.client.token.usage"]
    assert usage.unit == "{token}"
    points = by_token_type(usage)
    assert set(points) == {"input", "output"}
    for kind, figure in (("input", record.input_tokens), ("output", record.output_tokens)):
        point = points[kind]
        assert dict(point.attributes) == {**base_attributes(record), "gen_ai.token.type": kind}
        assert (point.count, point.sum, point.min, point.max) == (1, figure, figure, figure)
        assert tuple(point.explicit_bounds) == TOKEN_BUCKETS

    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    (point,) = histogram_points(duration)
    assert dict(point.attributes) == base_attributes(record)
    assert point.count == 1
    assert point.sum == pytest.approx(record.latency_ms / 1000)  # type: ignore[operator]
    assert tuple(point.explicit_bounds) == DURATION_BUCKETS

    cost = metrics["tokenbudget.cost"]
    assert cost.unit == "USD"
    assert cost.data.is_monotonic
    (point,) = number_points(cost)
    assert dict(point.attributes) == base_attributes(record)
    assert point.value == pytest.approx(float(record.cost_usd))

    # A JSON answer has no first chunk; nothing was saved by a cache.
    assert "gen_ai.client.operation.time_to_first_chunk" not in metrics
    assert "tokenbudget.cost.saved" not in metrics


async def test_stream_time_to_first_chunk(otel: Otel, mode: str) -> None:
    tracker = TokenTracker()
    otel.instrument(tracker)
    client = openai_client(tracker, FakeLLM(["Paris is the capital."]), mode)
    chunks = await collect(await resolve(chat(client, stream=True)))
    assert chunks
    record = tracker.last_record
    assert record is not None and record.stream and record.first_chunk_ms is not None

    metrics = otel.metrics()
    (first,) = histogram_points(metrics["gen_ai.client.operation.time_to_first_chunk"])
    assert metrics["gen_ai.client.operation.time_to_first_chunk"].unit == "s"
    assert dict(first.attributes) == base_attributes(record)
    assert first.sum == pytest.approx(record.first_chunk_ms / 1000)
    assert tuple(first.explicit_bounds) == DURATION_BUCKETS
    points = by_token_type(metrics["gen_ai.client.token.usage"])
    assert points["output"].sum == record.output_tokens > 0
    assert points["input"].sum == record.input_tokens > 0


def test_time_to_first_chunk_is_the_first_chunk_not_the_end(otel: Otel) -> None:
    """A stream that waits after its first event: the first chunk's time, not the end's."""

    def slow_stream(handler: Any) -> None:
        start_response(handler, {"content-type": "text/event-stream"})
        handler.wfile.write(chat_chunk("Par"))
        handler.wfile.flush()
        time.sleep(0.3)
        handler.wfile.write(chat_chunk("is."))
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()

    server = LoopbackServer()
    server.routes["/v1/chat/completions"] = slow_stream
    tracker = TokenTracker()
    otel.instrument(tracker)
    with server.running():
        client = openai.OpenAI(
            api_key="sk-fake",
            base_url=server.base_url,
            http_client=tracker.httpx_client(),
            max_retries=0,
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chat(client, stream=True))
    assert text == "Paris."

    metrics = otel.metrics()
    (first,) = histogram_points(metrics["gen_ai.client.operation.time_to_first_chunk"])
    (whole,) = histogram_points(metrics["gen_ai.client.operation.duration"])
    assert whole.sum - first.sum >= 0.25
    # The stream reported no usage: its tokens were counted, and so exported.
    record = tracker.last_record
    assert record is not None and record.estimated
    assert by_token_type(metrics["gen_ai.client.token.usage"])["output"].sum == record.output_tokens


def test_error_answer_duration_with_error_type_and_no_tokens(otel: Otel) -> None:
    tracker = TokenTracker()
    otel.instrument(tracker)
    client = openai_client(tracker, FakeLLM([FakeReply(status=429)]))
    with pytest.raises(openai.RateLimitError):
        chat(client)

    metrics = otel.metrics()
    (point,) = histogram_points(metrics["gen_ai.client.operation.duration"])
    assert point.attributes["error.type"] == "429"
    assert point.attributes["gen_ai.provider.name"] == "openai"
    assert "gen_ai.client.token.usage" not in metrics
    assert "tokenbudget.cost" not in metrics


def test_cache_hit_counts_what_it_saved_and_no_tokens(otel: Otel) -> None:
    tracker = TokenTracker(cache="memory")
    otel.instrument(tracker)
    client = openai_client(tracker, FakeLLM(["Paris."], when_exhausted="repeat"))
    chat(client)
    chat(client)
    first, hit = tracker.records
    assert hit.cached and hit.saved_cost_usd == first.cost_usd

    metrics = otel.metrics()
    points = by_token_type(metrics["gen_ai.client.token.usage"])
    assert points["input"].count == 1  # the first call only
    (cost,) = number_points(metrics["tokenbudget.cost"])
    assert cost.value == pytest.approx(float(first.cost_usd))  # type: ignore[arg-type]
    (saved,) = number_points(metrics["tokenbudget.cost.saved"])
    assert saved.value == pytest.approx(float(hit.saved_cost_usd))  # type: ignore[arg-type]
    assert histogram_points(metrics["gen_ai.client.operation.duration"])[0].count == 2


def test_anthropic_call_and_opted_in_tags(otel: Otel) -> None:
    tracker = TokenTracker()
    otel.instrument(tracker, tags=["feature"])
    http = tracker.httpx_client(transport=FakeLLM([FakeReply("Paris.", cached_tokens=8)]))
    client = anthropic.Anthropic(api_key="sk-ant-fake", http_client=http, max_retries=0)
    with tokenbudget.tag(feature="search", user="u-1"):
        client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES)
    record = tracker.last_record
    assert record is not None

    (cost,) = number_points(otel.metrics()["tokenbudget.cost"])
    assert dict(cost.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-6",
        "gen_ai.response.model": record.model,
        "tokenbudget.tag.feature": "search",  # "user" was not opted in
    }
    assert cost.value == pytest.approx(float(record.cost_usd))  # type: ignore[arg-type]


def test_budget_gauges_read_the_trackers_budgets(otel: Otel) -> None:
    day = Budget(max_cost_usd="2.50", name="daily", per="day")
    tokens_only = Budget(max_tokens=100_000)
    tracker = TokenTracker(budgets=[day])
    extra = Budget(max_cost_usd=1, max_tokens=5000, name="extra")
    otel.instrument(tracker, budgets=[extra])
    tracker.add_budget(tokens_only)  # added later: still read at collection
    chat(openai_client(tracker, FakeLLM(["Paris."])))
    record = tracker.last_record
    assert record is not None and record.cost_usd is not None

    metrics = otel.metrics()

    def values(name: str) -> dict[str, float]:
        points = number_points(metrics[name])
        return {point.attributes["tokenbudget.budget.name"]: point.value for point in points}

    assert values("tokenbudget.budget.spent") == {
        "daily": pytest.approx(float(record.cost_usd)),
        "extra": 0.0,  # not the tracker's: it holds no call
    }
    assert values("tokenbudget.budget.limit") == {"daily": 2.5, "extra": 1.0}
    assert values("tokenbudget.budget.tokens.spent") == {
        "budget-1": record.total_tokens,
        "extra": 0,
    }
    assert values("tokenbudget.budget.tokens.limit") == {"budget-1": 100_000, "extra": 5000}
    assert metrics["tokenbudget.budget.spent"].unit == "USD"
    assert metrics["tokenbudget.budget.tokens.limit"].unit == "{token}"


def test_uninstrument_stops_the_export(otel: Otel) -> None:
    tracker = TokenTracker(max_cost_usd=5)
    with otel.instrument(tracker) as handle:
        client = openai_client(tracker, FakeLLM(["Paris."], when_exhausted="repeat"))
        chat(client)
    assert not handle.active
    handle.uninstrument()  # idempotent
    chat(client)
    assert len(tracker.records) == 2

    metrics = otel.metrics()
    assert histogram_points(metrics["gen_ai.client.operation.duration"])[0].count == 1
    assert "tokenbudget.budget.limit" not in metrics or not number_points(
        metrics["tokenbudget.budget.limit"]
    )


def test_default_tracker_is_what_patch_all_uses(otel: Otel) -> None:
    tracker = tokenbudget.get_tracker()
    before = len(tracker.records)
    with otel.instrument(None) as handle, tokenbudget.patched():
        assert handle.tracker is tracker
        http = httpx2.Client(transport=FakeLLM(["Paris."]))  # wrapped by the patch
        chat(openai.OpenAI(api_key="sk-fake", http_client=http, max_retries=0))
    assert len(tracker.records) == before + 1
    (point,) = histogram_points(otel.metrics()["gen_ai.client.operation.duration"])
    assert point.attributes["gen_ai.request.model"] == MODEL


def test_global_meter_provider_when_none_given(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry import metrics

    monkeypatch.setattr(metrics, "get_meter_provider", lambda: otel.meter_provider)
    tracker = TokenTracker()
    tokenbudget.otel.instrument(tracker, tracer_provider=otel.tracer_provider)
    chat(openai_client(tracker, FakeLLM(["Paris."])))
    assert "gen_ai.client.operation.duration" in otel.metrics()


def test_latest_conventions_drop_gen_ai_system(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http, gen_ai_latest_experimental")
    tracker = TokenTracker()
    otel.instrument(tracker)
    chat(openai_client(tracker, FakeLLM(["Paris."])))
    record = tracker.last_record
    assert record is not None
    (point,) = histogram_points(otel.metrics()["gen_ai.client.operation.duration"])
    assert dict(point.attributes) == without(base_attributes(record), "gen_ai.system")


class _BrokenTracer:
    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("exporter down")


class _BrokenTracerProvider(trace.TracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        return _BrokenTracer()


def test_a_failing_exporter_never_breaks_the_call(otel: Otel) -> None:
    tracker = TokenTracker()
    tokenbudget.otel.instrument(
        tracker, otel.meter_provider, _BrokenTracerProvider(), spans="client"
    )
    client = openai_client(tracker, FakeLLM(["Paris."], when_exhausted="repeat"))
    assert chat(client).choices[0].message.content == "Paris."
    chat(client)
    assert len(tracker.records) == 2
    # The metrics of both calls went out before the span failed.
    assert histogram_points(otel.metrics()["gen_ai.client.operation.duration"])[0].count == 2


def test_a_tracker_is_instrumented_once_at_a_time(otel: Otel) -> None:
    tracker = TokenTracker()
    first = otel.instrument(tracker)
    with pytest.raises(RuntimeError, match="already instrumented"):
        otel.instrument(tracker)
    first.uninstrument()
    with otel.instrument(tracker):
        chat(openai_client(tracker, FakeLLM(["Paris."])))
    (point,) = histogram_points(otel.metrics()["gen_ai.client.operation.duration"])
    assert point.count == 1  # counted once


def test_an_instrumented_tracker_can_be_collected() -> None:
    tracker = TokenTracker()
    tokenbudget.otel.instrument(tracker, spans=None, metrics=False)
    gone = weakref.ref(tracker)
    del tracker
    gc.collect()
    assert gone() is None
