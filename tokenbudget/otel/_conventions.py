"""The OpenTelemetry GenAI semantic conventions, as tokenbudget speaks them.

Names, units and bucket boundaries follow the conventions' metrics and span
pages (``docs/gen-ai`` of open-telemetry/semantic-conventions; status
"Development"). Everything here is plain data over a :class:`CallRecord`, so it
needs no OpenTelemetry package.

The conventions ask instrumentations to keep what they emitted up to v1.36
unless ``OTEL_SEMCONV_STABILITY_OPT_IN`` lists ``gen_ai_latest_experimental``.
tokenbudget emits the latest names always, and by default also the older names
a dashboard may still read: ``gen_ai.system`` (v1.36, with its v1.36 values)
and ``gen_ai.usage.cache_creation.input_tokens`` (now ``cache_write``); with
the opt-in it emits the latest names only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .._data import CallRecord

__all__ = [
    "COST",
    "COST_SAVED",
    "DURATION",
    "DURATION_BUCKETS",
    "TIME_TO_FIRST_CHUNK",
    "TOKEN_BUCKETS",
    "TOKEN_USAGE",
    "call_attributes",
    "error_type",
    "latest_only",
    "operation_name",
    "provider_names",
]

#: Histogram of billed tokens per call, split by ``gen_ai.token.type``.
TOKEN_USAGE = "gen_ai.client.token.usage"
#: Histogram of each call's duration, in seconds.
DURATION = "gen_ai.client.operation.duration"
#: Histogram of a stream's time to its first body chunk, in seconds.
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
#: Counter of what calls cost, in US dollars (tokenbudget's own).
COST = "tokenbudget.cost"
#: Counter of what cache hits saved, in US dollars (tokenbudget's own).
COST_SAVED = "tokenbudget.cost.saved"

#: The conventions' recommended boundaries for ``gen_ai.client.token.usage``.
TOKEN_BUCKETS = (
    1,
    4,
    16,
    64,
    256,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
)
#: The recommended boundaries for the duration histograms (seconds).
DURATION_BUCKETS = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)

# tokenbudget endpoint kind -> gen_ai.operation.name (a well-known value wherever one fits).
_OPERATIONS = {
    "chat": "chat",
    "responses": "chat",
    "messages": "chat",
    "completions": "text_completion",
    "generate_content": "generate_content",
    "embeddings": "embeddings",
}

# tokenbudget provider -> (gen_ai.provider.name, v1.36 gen_ai.system) where they differ
# from the provider's own name.
_PROVIDERS = {
    "google": ("gcp.gen_ai", "gcp.gen_ai"),
    "mistral": ("mistral_ai", "mistral_ai"),
    "xai": ("x_ai", "xai"),
    "azure": ("azure.ai.openai", "az.ai.openai"),
}

_OPT_IN = "OTEL_SEMCONV_STABILITY_OPT_IN"


def latest_only(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``OTEL_SEMCONV_STABILITY_OPT_IN`` asks for the latest GenAI names only."""
    values = environ.get(_OPT_IN, "")
    return "gen_ai_latest_experimental" in {value.strip() for value in values.split(",")}


def operation_name(record: CallRecord) -> str:
    """The call's ``gen_ai.operation.name``: a well-known value, else the endpoint kind."""
    return _OPERATIONS.get(record.endpoint, record.endpoint)


def provider_names(provider: str) -> tuple[str, str]:
    """``provider``'s ``gen_ai.provider.name`` and its v1.36 ``gen_ai.system``."""
    return _PROVIDERS.get(provider, (provider, provider))


def error_type(record: CallRecord) -> str | None:
    """The call's ``error.type``: the HTTP status, the exception's type, or ``None``.

    Only the class of the error goes out, never its text (which may quote a
    request).
    """
    if record.status_code is not None and record.status_code >= 400:
        return str(record.status_code)
    if record.error is None:
        return None
    head = record.error.split(":", 1)[0].strip()
    return head if head.isidentifier() else "_OTHER"


def call_attributes(
    record: CallRecord, tags: tuple[str, ...], legacy: bool
) -> dict[str, str | int | float | bool]:
    """The attributes every metric of ``record`` carries (low cardinality only)."""
    provider, system = provider_names(record.provider)
    attributes: dict[str, str | int | float | bool] = {
        "gen_ai.operation.name": operation_name(record),
        "gen_ai.provider.name": provider,
    }
    if legacy:
        attributes["gen_ai.system"] = system
    if record.request_model:
        attributes["gen_ai.request.model"] = record.request_model
    if record.model:
        attributes["gen_ai.response.model"] = record.model
    error = error_type(record)
    if error is not None:
        attributes["error.type"] = error
    for name in tags:
        value = record.tags.get(name)
        if value is not None:
            attributes[f"tokenbudget.tag.{name}"] = value
    return attributes
