"""OpenAI's usage objects, normalised into :class:`~tokenbudget.Usage`.

The conventions (what includes what, per API) are listed in the package's
docstring, ``tokenbudget.providers.openai``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..._data import Usage, make_usage
from .._figures import UsageFigures, validating

__all__ = ["UsageNormaliser", "normalise_openai_usage"]

#: Turns a host's ``usage`` object into normalised usage (hosts that count differently
#: from OpenAI give :class:`~tokenbudget.providers.openai.OpenAIProvider` their own).
UsageNormaliser = Callable[[Mapping[str, Any]], Usage]


@validating
def normalise_openai_usage(usage: Mapping[str, Any]) -> Usage:
    """Normalise an OpenAI ``usage`` object (chat/completions/embeddings or Responses).

    Every figure goes through the providers' validation boundary
    (:class:`~tokenbudget.providers.UsageFigures`): the input count is required,
    the others may be absent.
    """
    get = usage.get
    figures = UsageFigures()
    count = figures.count
    if "input_tokens" in usage or "output_tokens" in usage:  # Responses API
        input_tokens = figures.required(get("input_tokens"), "input_tokens")
        output_tokens = count(get("output_tokens"), "output_tokens")
        in_details = get("input_tokens_details")
        out_details = get("output_tokens_details")
        in_name, out_name = "input_tokens_details", "output_tokens_details"
    else:
        input_tokens = figures.required(get("prompt_tokens"), "prompt_tokens")
        output_tokens = count(get("completion_tokens"), "completion_tokens")
        in_details = get("prompt_tokens_details")
        out_details = get("completion_tokens_details")
        in_name, out_name = "prompt_tokens_details", "completion_tokens_details"
    cached = write = audio_in = image_in = reasoning = audio_out = 0
    if in_details:
        if isinstance(in_details, Mapping):
            cached = count(in_details.get("cached_tokens"), in_name, "cached_tokens")
            write = count(in_details.get("cache_write_tokens"), in_name, "cache_write_tokens")
            audio_in = count(in_details.get("audio_tokens"), in_name, "audio_tokens")
            image_in = count(in_details.get("image_tokens"), in_name, "image_tokens")
        else:
            count(in_details, in_name)
    if out_details:
        if isinstance(out_details, Mapping):
            reasoning = count(out_details.get("reasoning_tokens"), out_name, "reasoning_tokens")
            audio_out = count(out_details.get("audio_tokens"), out_name, "audio_tokens")
        else:
            count(out_details, out_name)
    return figures.usage(
        make_usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached,
            cache_write_tokens=write,
            reasoning_tokens=reasoning,
            audio_input_tokens=audio_in,
            audio_output_tokens=audio_out,
            image_input_tokens=image_in,
        )
    )
