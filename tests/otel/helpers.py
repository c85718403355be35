"""The in-memory OpenTelemetry SDK of the otel tests, and readers of what it collected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
    Sum,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokenbudget.otel
from tokenbudget import TokenTracker

Attrs = Mapping[str, Any]


class Otel:
    """A meter provider and a tracer provider, each over an in-memory reader or exporter."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.tracer_provider.get_tracer("tests")

    def instrument(self, tracker: TokenTracker | None, **options: Any) -> Any:
        """``tokenbudget.otel.instrument`` on these providers."""
        return tokenbudget.otel.instrument(
            tracker,
            meter_provider=self.meter_provider,
            tracer_provider=self.tracer_provider,
            **options,
        )

    def metrics(self) -> dict[str, Any]:
        """Each collected metric by name (its ``Metric``: name, unit, data)."""
        data = self.reader.get_metrics_data()
        found: dict[str, Any] = {}
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                assert scope.scope.name == "tokenbudget"
                for metric in scope.metrics:
                    found[metric.name] = metric
        return found

    def spans(self) -> list[ReadableSpan]:
        """The finished spans, oldest first."""
        return list(self.exporter.get_finished_spans())

    def shutdown(self) -> None:
        self.meter_provider.shutdown()
        self.tracer_provider.shutdown()


def histogram_points(metric: Any) -> list[HistogramDataPoint]:
    """The data points of a histogram metric."""
    assert isinstance(metric.data, Histogram)
    return list(metric.data.data_points)


def number_points(metric: Any) -> list[NumberDataPoint]:
    """The data points of a counter or gauge metric."""
    assert isinstance(metric.data, (Sum, Gauge))
    return list(metric.data.data_points)


def by_token_type(metric: Any) -> dict[str, HistogramDataPoint]:
    """``gen_ai.client.token.usage`` points by their ``gen_ai.token.type``."""
    return {point.attributes["gen_ai.token.type"]: point for point in histogram_points(metric)}


def without(attributes: Attrs, *names: str) -> dict[str, Any]:
    """``attributes`` without ``names``."""
    return {key: value for key, value in attributes.items() if key not in names}
