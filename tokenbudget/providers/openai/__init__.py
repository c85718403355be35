"""OpenAI and Azure OpenAI: chat completions, Responses, legacy completions, embeddings.

Usage conventions (normalised into :class:`~tokenbudget.Usage`):

- Chat and completions report ``prompt_tokens``, which already *includes*
  ``prompt_tokens_details.cached_tokens``, and ``completion_tokens``, which
  already includes ``completion_tokens_details.reasoning_tokens``: both map
  straight onto input/output, with cached and reasoning as parts of them.
- The Responses API reports ``input_tokens`` (includes
  ``input_tokens_details.cached_tokens``) and ``output_tokens`` (includes
  ``output_tokens_details.reasoning_tokens``): same mapping.
- Embeddings report ``prompt_tokens`` only.
- Streamed chat reports usage only when the request has
  ``stream_options.include_usage``; then every chunk carries ``"usage": null``
  and one extra last chunk with ``"choices": []`` carries the usage. For
  api.openai.com and Azure, tokenbudget asks for it when the caller did not and
  hides both effects from the caller (see :func:`hide_injected_usage`).
- Streamed Responses report usage in the final ``response.completed`` (or
  ``response.incomplete`` / ``response.failed``) event.
- The billed model is the response's ``model`` (on Azure the request names a
  deployment, not a model).

The modules, one job each: ``_provider`` (which endpoint a request is, and the
provider), ``_reader`` (reading answers), ``_scan`` (the fast path for whole
JSON answers), ``_stream`` (asking a stream for usage and hiding it again),
``_usage`` (normalising usage objects), ``_prompt`` (counting prompt tokens).
"""

from __future__ import annotations

from ._prompt import count_chat_prompt, count_prompt, count_responses_prompt, message_text
from ._provider import OpenAIProvider, azure_deployment, endpoint_kind
from ._reader import OpenAIReader
from ._stream import hide_injected_usage
from ._usage import UsageNormaliser, normalise_openai_usage

__all__ = [
    "OpenAIProvider",
    "OpenAIReader",
    "UsageNormaliser",
    "azure_deployment",
    "count_chat_prompt",
    "count_prompt",
    "count_responses_prompt",
    "endpoint_kind",
    "hide_injected_usage",
    "message_text",
    "normalise_openai_usage",
]
