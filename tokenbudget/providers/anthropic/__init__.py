"""Anthropic Messages API: JSON and SSE answers of ``/v1/messages``, free ``count_tokens``.

Usage conventions (normalised into :class:`~tokenbudget.Usage`):

- Anthropic's ``input_tokens`` *excludes* cache reads and cache writes, which
  are reported beside it as ``cache_read_input_tokens`` and
  ``cache_creation_input_tokens``. Normalised input is the sum of the three;
  cached input is the reads, cache writes are the creations.
- ``usage.cache_creation`` (when present) splits the writes by lifetime:
  ``ephemeral_1h_input_tokens`` becomes ``cache_write_1h_tokens``; the
  ``ephemeral_5m_input_tokens`` are the rest of the writes.
- ``output_tokens`` already includes extended-thinking tokens;
  ``output_tokens_details.thinking_tokens`` (when present) is the reasoning part.
- ``server_tool_use`` counts requests of server tools, billed per request:
  ``web_search_requests`` and the like go to ``Usage.extra`` under their own names.
- ``usage.service_tier`` (``standard``, ``priority``, ``batch``) is the tier billed;
  ``batch`` is priced as ``calculate_cost(..., batch=True)``. ``usage.speed``
  ``fast`` (fast mode) bills a standard-tier call at the model's ``fast`` tier.
- Streams: ``message_start`` carries the message head and the usage so far
  (input figures, a first ``output_tokens``); each ``message_delta`` carries
  *cumulative* usage that overwrites the fields it names; ``message_stop`` ends
  the message. ``ping`` events are keep-alives. An ``error`` event mid-stream
  (e.g. ``overloaded_error``) ends the stream early: what was seen is kept, the
  record is estimated, and the SDK raises by itself.
- ``/v1/messages/count_tokens`` is free: recorded with zero usage and cost.
- The billed model is the response's ``model``.

Anthropic models served by Vertex AI (``:rawPredict`` / ``:streamRawPredict``)
answer in this same format; :mod:`tokenbudget.providers.google` hands them to
an :class:`AnthropicProvider`.

The modules, one job each: ``_provider`` (which endpoint a request is, its
input estimate, the provider), ``_reader`` (reading answers), ``_usage``
(normalising usage objects).
"""

from __future__ import annotations

from ._provider import AnthropicProvider, count_messages_input
from ._reader import AnthropicReader
from ._usage import normalise_anthropic_usage

__all__ = [
    "AnthropicProvider",
    "AnthropicReader",
    "count_messages_input",
    "normalise_anthropic_usage",
]
