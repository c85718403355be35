"""Tracked + OpenTelemetry vs tracked alone: the real openai SDK over a mock transport.

    python benchmarks/bench_otel.py [--rounds 41]

Trackers each under its own openai client over the same mock transport; the
instrumented ones use ``tokenbudget.otel`` on the OpenTelemetry SDK (a meter
provider with an in-memory reader, which aggregates every point), either as
``instrument()`` defaults (metrics, attributes on the current span: there is
none here) or with a CLIENT span per call, exported to an exporter that drops
it, so the SDK's whole span path runs. Rounds alternate which side goes first;
the table shows the median time per call of each, the median of the per-round
ratios (with OTel / without) and that ratio's interquartile range (the house
style of ``bench_transport.py``, whose mock server and round timing it reuses).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx2
import openai
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_transport import MESSAGES, handler_for
from sidebyside import compare

import tokenbudget.otel
from tokenbudget import TokenTracker


class Dropping(SpanExporter):
    """Takes every finished span and keeps none (the export itself is the application's)."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def client(tracker: TokenTracker, chunks: int) -> openai.OpenAI:
    transport = httpx2.MockTransport(handler_for(chunks))
    return openai.OpenAI(api_key="sk-bench", http_client=tracker.httpx_client(transport=transport))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    args = parser.parse_args()

    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(Dropping()))
    alone, metered, spanned = TokenTracker(), TokenTracker(), TokenTracker()
    tokenbudget.otel.instrument(metered, meter_provider, tracer_provider)
    tokenbudget.otel.instrument(spanned, meter_provider, tracer_provider, spans="client")
    plain, metrics, spans = client(alone, 100), client(metered, 100), client(spanned, 100)

    def chat(sdk: openai.OpenAI) -> Callable[[], object]:
        return lambda: sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    def stream(sdk: openai.OpenAI) -> Callable[[], object]:
        def run() -> object:
            chunks = sdk.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            )
            return sum(1 for _ in chunks)

        return run

    rows = [
        compare("JSON, metrics", chat(plain), chat(metrics), 50, args.rounds),
        compare("JSON, metrics + span", chat(plain), chat(spans), 50, args.rounds),
        compare("stream, metrics", stream(plain), stream(metrics), 10, args.rounds),
        compare("stream, metrics + span", stream(plain), stream(spans), 10, args.rounds),
    ]
    print("chat calls; streams of 100 chunks")
    print(f"{'case':<26}{'tracked':>14}{'+ OTel':>14}{'ratio':>9}{'IQR':>16}")
    for name, a, b, ratio, low, high in rows:
        print(
            f"{name:<26}{a * 1e6:>11.1f} µs{b * 1e6:>11.1f} µs{ratio:>9.3f}"
            f"{f'{low:.3f}-{high:.3f}':>16}"
        )
    assert reader.get_metrics_data() is not None  # the instrumented sides did export
    exported = metered.usage.calls + spanned.usage.calls
    print(f"\n{exported} exported calls; medians of {args.rounds} rounds")


if __name__ == "__main__":
    main()
