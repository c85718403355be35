"""OpenTelemetry export: every tracked call as GenAI metrics and span attributes.

>>> import tokenbudget.otel
>>> handle = tokenbudget.otel.instrument()  # doctest: +SKIP
>>> handle.uninstrument()  # doctest: +SKIP

Needs ``pip install "tokenbudget[otel]"`` (``opentelemetry-api`` only: the
application brings its SDK and exporters). Names follow the OpenTelemetry GenAI
semantic conventions; tokenbudget's own figures are under ``tokenbudget.*``.

Metrics (on the meter ``tokenbudget``):

- ``gen_ai.client.token.usage`` (histogram, ``{token}``, by ``gen_ai.token.type``
  ``input``/``output``; billed tokens, none for cache hits or error answers)
- ``gen_ai.client.operation.duration`` (histogram, ``s``)
- ``gen_ai.client.operation.time_to_first_chunk`` (histogram, ``s``, streams only)
- ``tokenbudget.cost`` and ``tokenbudget.cost.saved`` (counters, ``USD``)
- ``tokenbudget.budget.spent`` / ``.limit`` (gauges, ``USD``) and
  ``tokenbudget.budget.tokens.spent`` / ``.tokens.limit`` (gauges, ``{token}``),
  by ``tokenbudget.budget.name``

Every call's metrics carry ``gen_ai.operation.name``, ``gen_ai.provider.name``,
``gen_ai.request.model``, ``gen_ai.response.model``, ``error.type`` on failure,
the opted-in tags as ``tokenbudget.tag.<name>``, and ``gen_ai.system`` unless
``OTEL_SEMCONV_STABILITY_OPT_IN`` holds ``gen_ai_latest_experimental``. Spans get
those plus ``gen_ai.response.id``, ``gen_ai.usage.*`` (input, output,
cache_read.input, cache_write.input, reasoning.output, audio and image input
and output tokens; ``cache_creation.input`` too unless latest-only),
``tokenbudget.cost_usd``, ``tokenbudget.saved_cost_usd``,
``tokenbudget.estimated``, ``tokenbudget.cache_hit``, ``tokenbudget.stream`` and
``tokenbudget.time_to_first_chunk_s``. No prompt, answer, header or key is ever
exported.
"""

from __future__ import annotations

try:
    import opentelemetry.metrics
    import opentelemetry.trace  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        'tokenbudget.otel needs the OpenTelemetry API: pip install "tokenbudget[otel]"'
    ) from error

from ._conventions import (
    COST,
    COST_SAVED,
    DURATION,
    DURATION_BUCKETS,
    TIME_TO_FIRST_CHUNK,
    TOKEN_BUCKETS,
    TOKEN_USAGE,
)
from ._instrument import Instrumentation, instrument
from ._metrics import BUDGET_LIMIT, BUDGET_SPENT, BUDGET_TOKEN_LIMIT, BUDGET_TOKENS_SPENT
from ._spans import SpanMode, span_attributes

__all__ = [
    "BUDGET_LIMIT",
    "BUDGET_SPENT",
    "BUDGET_TOKENS_SPENT",
    "BUDGET_TOKEN_LIMIT",
    "COST",
    "COST_SAVED",
    "DURATION",
    "DURATION_BUCKETS",
    "Instrumentation",
    "SpanMode",
    "TIME_TO_FIRST_CHUNK",
    "TOKEN_BUCKETS",
    "TOKEN_USAGE",
    "instrument",
    "span_attributes",
]
