"""OpenTelemetry export: what a tracked call looks like as GenAI metrics and a span.

The calls are answered by ``tokenbudget.testing.FakeLLM`` (no network, no API key);
the OpenTelemetry SDK keeps what it gets in memory, and this script prints it. In an
application, give ``instrument()`` your own providers (or set the global ones) with
OTLP exporters instead.

    pip install -e ".[all,otel]" opentelemetry-sdk
    python examples/otel.py
"""

from __future__ import annotations

import openai
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import Histogram, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokenbudget
import tokenbudget.otel
from tokenbudget import Budget, TokenTracker
from tokenbudget.testing import FakeLLM

QUESTION = [{"role": "user", "content": "Name three ways to spend less on LLM calls."}]


def main() -> None:
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))

    tracker = TokenTracker(budgets=[Budget(max_cost_usd=1, name="daily", per="day")])
    fake = FakeLLM(reply="Cache identical calls, set budgets, pick smaller models.")
    client = openai.OpenAI(api_key="sk-fake", http_client=tracker.httpx_client(transport=fake))

    with tokenbudget.otel.instrument(
        tracker, meter_provider, tracer_provider, spans="client", tags=["feature"]
    ):
        with tokenbudget.tag(feature="tips"):
            client.chat.completions.create(model="gpt-4o", messages=QUESTION)
            chunks = client.chat.completions.create(
                model="gpt-4o-mini", messages=QUESTION, stream=True
            )
            for _ in chunks:
                pass

        print("spans:")
        for span in spans.get_finished_spans():
            print(f"  {span.name} ({span.kind.name})")
            for name, value in (span.attributes or {}).items():
                print(f"    {name} = {value!r}")

        print("\nmetrics:")
        data = reader.get_metrics_data()
        assert data is not None
        for metric in data.resource_metrics[0].scope_metrics[0].metrics:
            print(f"  {metric.name} [{metric.unit}]")
            for point in metric.data.data_points:
                labels = ", ".join(f"{k}={v}" for k, v in point.attributes.items())
                if isinstance(metric.data, Histogram):
                    figure = f"count={point.count} sum={point.sum:.6g}"  # type: ignore[union-attr]
                else:
                    figure = f"value={point.value:.6g}"  # type: ignore[union-attr]
                print(f"    {figure}  {{{labels}}}")
    meter_provider.shutdown()
    tracer_provider.shutdown()


if __name__ == "__main__":
    main()
