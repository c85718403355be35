"""Span attributes of each call: on the caller's current span, or on a client span of its own.

Only figures and names go out: models, token counts, cost, flags, the
provider's response id. Never a prompt, an answer, a header or a key (a
:class:`CallRecord` holds none of them but its error text, of which only the
class is sent as ``error.type``).
"""

from __future__ import annotations

from typing import Literal

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider

from .._data import CallRecord
from .._version import __version__
from ._conventions import call_attributes, operation_name

__all__ = ["SpanMode", "SpanWriter", "span_attributes"]

#: Where a call's attributes go: ``"current"`` (the caller's span), ``"client"`` (a span
#: per call) or ``None`` (no spans).
SpanMode = Literal["current", "client"]

Attributes = dict[str, "str | int | float | bool"]


def span_attributes(record: CallRecord, tags: tuple[str, ...], legacy: bool) -> Attributes:
    """Every attribute a span of ``record`` carries."""
    attributes = call_attributes(record, tags, legacy)
    usage = record.usage
    if record.response_id:
        attributes["gen_ai.response.id"] = record.response_id
    if record.succeeded and not record.cached:
        attributes["gen_ai.usage.input_tokens"] = usage.input_tokens
        attributes["gen_ai.usage.output_tokens"] = usage.output_tokens
        if usage.cached_input_tokens:
            attributes["gen_ai.usage.cache_read.input_tokens"] = usage.cached_input_tokens
        if usage.cache_write_tokens:
            attributes["gen_ai.usage.cache_write.input_tokens"] = usage.cache_write_tokens
            if legacy:  # the name of conventions v1.37 to v1.40
                attributes["gen_ai.usage.cache_creation.input_tokens"] = usage.cache_write_tokens
        for name, figure in (
            ("gen_ai.usage.reasoning.output_tokens", usage.reasoning_tokens),
            ("gen_ai.usage.audio.input_tokens", usage.audio_input_tokens),
            ("gen_ai.usage.audio.output_tokens", usage.audio_output_tokens),
            ("gen_ai.usage.image.input_tokens", usage.image_input_tokens),
            ("gen_ai.usage.image.output_tokens", usage.image_output_tokens),
        ):
            if figure:
                attributes[name] = figure
    if record.cost_usd is not None:
        attributes["tokenbudget.cost_usd"] = float(record.cost_usd)
    if record.saved_cost_usd is not None:
        attributes["tokenbudget.saved_cost_usd"] = float(record.saved_cost_usd)
    attributes["tokenbudget.estimated"] = record.estimated
    attributes["tokenbudget.cache_hit"] = record.cached
    attributes["tokenbudget.stream"] = record.stream
    if record.first_chunk_ms is not None:
        attributes["tokenbudget.time_to_first_chunk_s"] = record.first_chunk_ms / 1000.0
    return attributes


class SpanWriter:
    """Writes each call's attributes where :data:`SpanMode` says."""

    def __init__(
        self,
        mode: SpanMode,
        tracer_provider: TracerProvider | None,
        tags: tuple[str, ...],
        legacy: bool,
    ) -> None:
        self._mode = mode
        self._tags = tags
        self._legacy = legacy
        self._tracer = trace.get_tracer("tokenbudget", __version__, tracer_provider)

    def record(self, record: CallRecord) -> None:
        """Put ``record``'s attributes on a span."""
        if self._mode == "current":
            span = trace.get_current_span()
            if span.is_recording():
                # The caller's own span: its status is the caller's to set, not ours.
                span.set_attributes(span_attributes(record, self._tags, self._legacy))
            return
        self._client_span(record)

    def _client_span(self, record: CallRecord) -> None:
        """A finished CLIENT span covering the call, under the caller's current span."""
        start = int(record.timestamp.timestamp() * 1e9)
        end = start + int((record.latency_ms or 0.0) * 1e6)
        name = operation_name(record)
        if record.request_model:
            name = f"{name} {record.request_model}"
        span = self._tracer.start_span(
            name,
            kind=SpanKind.CLIENT,
            attributes=span_attributes(record, self._tags, self._legacy),
            start_time=start,
        )
        if not record.succeeded:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=end)
