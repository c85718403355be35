"""OpenAI's usage objects, normalised into :class:`~tokenbudget.Usage`.

The conventions (what includes what, per API) are listed in the package's
docstring, ``tokenbudget.providers.openai``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..._data import MAX_TOKENS, Usage, make_usage
from .._figures import UsageFigures, validating

__all__ = ["UsageNormaliser", "normalise_openai_usage"]

#: Turns a host's ``usage`` object into normalised usage (hosts that count differently
#: from OpenAI give :class:`~tokenbudget.providers.openai.OpenAIProvider` their own).
UsageNormaliser = Callable[[Mapping[str, Any]], Usage]

#: The names of input, output and their details objects: chat/completions/embeddings, Responses.
_CHAT = ("prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details")
_RESPONSES = ("input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details")
_NO_DETAILS: dict[str, Any] = {}  # read only: stands for an absent details object


@validating
def normalise_openai_usage(usage: Mapping[str, Any]) -> Usage:
    """Normalise an OpenAI ``usage`` object (chat/completions/embeddings or Responses).

    Every figure goes through the providers' validation boundary
    (:class:`~tokenbudget.providers.UsageFigures`): the input count is required,
    the others may be absent.
    """
    names = _RESPONSES if "input_tokens" in usage or "output_tokens" in usage else _CHAT
    get = usage.get
    # The usual report, read straight into its Usage: every figure a plain int in
    # range, the details plain dicts. Anything else goes through UsageFigures,
    # which notes what it drops.
    in_details = get(names[2]) or _NO_DETAILS
    out_details = get(names[3]) or _NO_DETAILS
    if type(in_details) is dict and type(out_details) is dict:
        input_tokens = get(names[0])
        output_tokens = get(names[1], 0)
        cached = in_details.get("cached_tokens", 0)
        write = in_details.get("cache_write_tokens", 0)
        audio_in = in_details.get("audio_tokens", 0)
        image_in = in_details.get("image_tokens", 0)
        reasoning = out_details.get("reasoning_tokens", 0)
        audio_out = out_details.get("audio_tokens", 0)
        if (
            type(input_tokens) is type(output_tokens) is type(cached) is type(write) is int
            and type(audio_in) is type(image_in) is type(reasoning) is type(audio_out) is int
            # ints: a bitwise or is negative if one of them is, and at least the largest
            # (at most twice it: a figure near the ceiling takes the general path)
            and 0 <= (input_tokens | output_tokens | cached | write) <= MAX_TOKENS
            and 0 <= (audio_in | image_in | reasoning | audio_out) <= MAX_TOKENS
        ):
            # positional, in Usage's field order (the fifth: 1-hour cache writes)
            return make_usage(
                input_tokens,
                output_tokens,
                cached,
                write,
                0,
                reasoning,
                audio_in,
                audio_out,
                image_in,
            )
    return _read_figures(usage, names)


def _read_figures(usage: Mapping[str, Any], names: tuple[str, str, str, str]) -> Usage:
    """The general path: each figure through :class:`UsageFigures`."""
    input_name, output_name, in_name, out_name = names
    get = usage.get
    figures = UsageFigures()
    count = figures.count
    input_tokens = figures.required(get(input_name), input_name)
    output_tokens = count(get(output_name), output_name)
    in_details = get(in_name)
    out_details = get(out_name)
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
