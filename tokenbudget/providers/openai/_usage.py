"""OpenAI's usage objects, normalised into :class:`~tokenbudget.Usage`.

The conventions (what includes what, per API) are listed in the package's
docstring, ``tokenbudget.providers.openai``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..._data import Usage, make_usage

__all__ = ["UsageNormaliser", "normalise_openai_usage"]

#: Turns a host's ``usage`` object into normalised usage (hosts that count differently
#: from OpenAI give :class:`~tokenbudget.providers.openai.OpenAIProvider` their own).
UsageNormaliser = Callable[[Mapping[str, Any]], Usage]


def _int(value: Any) -> int:
    """A token count: an int as is; anything else (``None``, a bool, a string) is 0."""
    return value if type(value) is int else 0


def normalise_openai_usage(usage: Mapping[str, Any]) -> Usage:
    """Normalise an OpenAI ``usage`` object (chat/completions/embeddings or Responses)."""
    get = usage.get
    if "input_tokens" in usage or "output_tokens" in usage:  # Responses API
        input_tokens = get("input_tokens")
        output_tokens = get("output_tokens")
        in_details = get("input_tokens_details")
        out_details = get("output_tokens_details")
    else:
        input_tokens = get("prompt_tokens")
        output_tokens = get("completion_tokens")
        in_details = get("prompt_tokens_details")
        out_details = get("completion_tokens_details")
    cached = audio_in = image_in = reasoning = audio_out = 0
    if in_details:
        cached = _int(in_details.get("cached_tokens"))
        audio_in = _int(in_details.get("audio_tokens"))
        image_in = _int(in_details.get("image_tokens"))
    if out_details:
        reasoning = _int(out_details.get("reasoning_tokens"))
        audio_out = _int(out_details.get("audio_tokens"))
    return make_usage(
        input_tokens=_int(input_tokens),
        output_tokens=_int(output_tokens),
        cached_input_tokens=cached,
        reasoning_tokens=reasoning,
        audio_input_tokens=audio_in,
        audio_output_tokens=audio_out,
        image_input_tokens=image_in,
    )
