"""Google Gemini API and Vertex AI: generateContent, streams, embeddings, free token counts.

Requests name the model in the URL path, ``.../models/{model}:{method}``
(Gemini API ``/v1beta/models/gemini-2.5-flash:generateContent``; Vertex AI
``/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{method}``
or, with an API key, ``/v1/publishers/google/models/{model}:{method}``). The
billed model is the response's ``modelVersion``.

Usage conventions of ``usageMetadata`` (normalised into :class:`~tokenbudget.Usage`):

- ``promptTokenCount`` already *includes* ``cachedContentTokenCount`` (context
  cache hits, explicit or implicit): input is the prompt count, cached input
  is the cached count.
- ``toolUsePromptTokenCount`` (results of server-side tools fed back to the
  model) is more input, *not* included in ``promptTokenCount``.
- ``thoughtsTokenCount`` is output *not* included in ``candidatesTokenCount``:
  output is candidates plus thoughts, reasoning is the thoughts.
  (``totalTokenCount`` = prompt + tool-use prompt + candidates + thoughts.)
- ``promptTokensDetails`` / ``candidatesTokensDetails`` give audio and image
  parts by modality.
- Streams (``:streamGenerateContent``, with ``alt=sse`` or as one JSON array)
  repeat *cumulative* ``usageMetadata`` in their chunks: the last one wins. A
  chunk whose candidate has a ``finishReason`` ends the answer.
- ``embedContent`` / ``batchEmbedContents`` answers carry ``usageMetadata`` only
  on some API versions; without it the input is counted locally and the record
  is marked estimated. Vertex ``:predict`` embeddings report
  ``predictions[].embeddings.statistics.token_count``.
- ``:countTokens`` and ``:computeTokens`` are free: recorded with zero usage and cost.
- Grounding with Google Search: ``candidates[].groundingMetadata.webSearchQueries``
  become ``Usage.extra`` units (:class:`GroundingCounter`): ``grounded_prompts``
  (Gemini 2.x bills per grounded prompt) and ``web_search_requests`` (Gemini 3
  bills per distinct non-empty query); each model's prices name its own unit.
- Vertex AI also serves Anthropic models (``publishers/anthropic/...:rawPredict``
  and ``:streamRawPredict``), answering in the Anthropic Messages format, and an
  OpenAI-compatible ``.../endpoints/openapi/chat/completions``; the Gemini API
  has one under ``/v1beta/openai/``. Those are read with the Anthropic and
  OpenAI readers, recorded under this provider's name.

The modules, one job each: ``_provider`` (which endpoint a request is, the
provider), ``_reader`` (reading answers), ``_content`` (the text of Gemini
``Content`` objects), ``_usage`` (normalising ``usageMetadata``).
"""

from __future__ import annotations

from ._provider import VERTEX_HOST_SUFFIXES, VERTEX_HOSTS, GoogleProvider, parse_model_path
from ._reader import GeminiReader
from ._usage import GroundingCounter, normalise_gemini_usage

__all__ = [
    "VERTEX_HOSTS",
    "VERTEX_HOST_SUFFIXES",
    "GeminiReader",
    "GoogleProvider",
    "GroundingCounter",
    "normalise_gemini_usage",
    "parse_model_path",
]
