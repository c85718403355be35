"""End to end: a tracked call exported over OTLP/HTTP to a receiver on loopback, decoded there."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest

pytest.importorskip("opentelemetry.sdk")
pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import tokenbudget.otel
from tokenbudget import TokenTracker
from tokenbudget.otel import TOKEN_BUCKETS
from tokenbudget.testing import FakeLLM


class Receiver:
    """An OTLP/HTTP receiver: keeps each decoded export request by path."""

    def __init__(self) -> None:
        self.received: dict[str, list[Any]] = {"/v1/traces": [], "/v1/metrics": []}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                kind = ExportTraceServiceRequest if self.path == "/v1/traces" else None
                message = (kind or ExportMetricsServiceRequest)()
                message.ParseFromString(body)
                receiver.received[self.path].append(message)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()
        thread.join(5)


def attributes(items: Any) -> dict[str, Any]:
    """OTLP key-values as a dict of plain values."""
    found = {}
    for item in items:
        value = item.value
        found[item.key] = getattr(value, value.WhichOneof("value"))
    return found


def test_export_over_otlp_http(receiver: Receiver) -> None:
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{receiver.url}/v1/metrics"), export_interval_millis=3_600_000
    )
    meter_provider = MeterProvider(metric_readers=[reader])
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{receiver.url}/v1/traces"))
    )
    tracker = TokenTracker()
    with tokenbudget.otel.instrument(tracker, meter_provider, tracer_provider, spans="client"):
        http = tracker.httpx_client(transport=FakeLLM(["Paris."]))
        client = openai.OpenAI(api_key="sk-proj-secret", http_client=http, max_retries=0)
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Capital of France?"}]
        )
        meter_provider.force_flush()
    meter_provider.shutdown()
    tracer_provider.shutdown()
    record = tracker.last_record
    assert record is not None and record.cost_usd is not None

    (traces,) = receiver.received["/v1/traces"]
    (span,) = traces.resource_spans[0].scope_spans[0].spans
    assert traces.resource_spans[0].scope_spans[0].scope.name == "tokenbudget"
    assert span.name == "chat gpt-4o-mini"
    assert span.kind == span.SPAN_KIND_CLIENT
    sent = attributes(span.attributes)
    assert sent["gen_ai.provider.name"] == "openai"
    assert sent["gen_ai.usage.input_tokens"] == record.input_tokens
    assert sent["gen_ai.usage.output_tokens"] == record.output_tokens
    assert sent["tokenbudget.cost_usd"] == pytest.approx(float(record.cost_usd))

    metrics = {
        metric.name: metric
        for request in receiver.received["/v1/metrics"]
        for resource in request.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    usage = metrics["gen_ai.client.token.usage"]
    assert usage.unit == "{token}"
    points = {
        attributes(point.attributes)["gen_ai.token.type"]: point
        for point in usage.histogram.data_points
    }
    assert points["input"].sum == record.input_tokens
    assert points["output"].sum == record.output_tokens
    assert tuple(points["input"].explicit_bounds) == TOKEN_BUCKETS
    (cost,) = metrics["tokenbudget.cost"].sum.data_points
    assert metrics["tokenbudget.cost"].unit == "USD"
    assert cost.as_double == pytest.approx(float(record.cost_usd))
    assert attributes(cost.attributes)["gen_ai.request.model"] == "gpt-4o-mini"
    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s" and duration.histogram.data_points[0].count == 1

    raw = b"".join(m.SerializeToString() for r in receiver.received.values() for m in r)
    assert b"sk-proj-secret" not in raw and b"Capital of France" not in raw
