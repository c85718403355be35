"""Anthropic's usage objects, normalised into :class:`~tokenbudget.Usage`.

Anthropic's ``input_tokens`` *excludes* cache reads and writes: normalised
input adds them back. ``output_tokens`` already includes thinking. Server tool
requests (``server_tool_use``) are billed per request and go to ``Usage.extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._data import MAX_TOKENS, Usage, make_usage
from .._figures import UsageFigures

__all__ = ["normalise_anthropic_usage"]

_NO_DETAILS: dict[str, Any] = {}  # read only: stands for an absent details object
#: ``server_tool_use`` values that bill nothing and note nothing: none, or an empty object.
_NO_TOOLS: tuple[Any, ...] = (None, _NO_DETAILS)


def _details(usage: Mapping[str, Any], key: str, figures: UsageFigures) -> Mapping[str, Any]:
    found = usage.get(key)
    if isinstance(found, Mapping):
        return found
    if found is not None:
        figures.count(found, key)  # noted as invalid: a details object that is not one
    return {}


def normalise_anthropic_usage(usage: Mapping[str, Any]) -> Usage:
    """Normalise an Anthropic ``usage`` object (a message's, or the merged stream's).

    Every figure goes through the providers' validation boundary
    (:class:`~tokenbudget.providers.UsageFigures`); input and output are required.
    """
    get = usage.get
    # The usual report, read straight into its Usage: every figure a plain int in
    # range, no server tool billed. Anything else goes through UsageFigures.
    creation = get("cache_creation", _NO_DETAILS)
    details = get("output_tokens_details", _NO_DETAILS)
    if type(creation) is dict and type(details) is dict and get("server_tool_use") in _NO_TOOLS:
        input_tokens = get("input_tokens")
        output_tokens = get("output_tokens")
        cache_read = get("cache_read_input_tokens", 0)
        cache_write = get("cache_creation_input_tokens", 0)
        write_1h = creation.get("ephemeral_1h_input_tokens", 0)
        thinking = details.get("thinking_tokens", 0)
        if (
            type(input_tokens) is type(output_tokens) is type(cache_read) is int
            and type(cache_write) is type(write_1h) is type(thinking) is int
            # ints: a bitwise or is negative if one of them is, and at least the largest;
            # normalised input (a sum) has its own ceiling
            and 0 <= (output_tokens | cache_read | cache_write | write_1h | thinking) <= MAX_TOKENS
            and input_tokens >= 0
            and input_tokens + cache_read + cache_write <= MAX_TOKENS
        ):
            return make_usage(
                input_tokens=input_tokens + cache_read + cache_write,
                output_tokens=output_tokens,
                cached_input_tokens=cache_read,
                cache_write_tokens=cache_write,
                cache_write_1h_tokens=min(write_1h, cache_write),
                reasoning_tokens=thinking,
            )
    return _read_figures(usage)


def _read_figures(usage: Mapping[str, Any]) -> Usage:
    """The general path: each figure through :class:`UsageFigures`."""
    figures = UsageFigures()
    count = figures.count
    cache_read = count(usage.get("cache_read_input_tokens"), "cache_read_input_tokens")
    cache_write = count(usage.get("cache_creation_input_tokens"), "cache_creation_input_tokens")
    write_1h = count(
        _details(usage, "cache_creation", figures).get("ephemeral_1h_input_tokens"),
        "cache_creation.ephemeral_1h_input_tokens",
    )
    thinking = count(
        _details(usage, "output_tokens_details", figures).get("thinking_tokens"),
        "output_tokens_details.thinking_tokens",
    )
    requests = figures.units(_details(usage, "server_tool_use", figures), "server_tool_use")
    input_tokens = figures.required(usage.get("input_tokens"), "input_tokens")
    output_tokens = figures.required(usage.get("output_tokens"), "output_tokens")
    return figures.usage(
        make_usage(
            input_tokens=input_tokens + cache_read + cache_write,
            output_tokens=output_tokens,
            cached_input_tokens=cache_read,
            cache_write_tokens=cache_write,
            cache_write_1h_tokens=min(write_1h, cache_write),
            reasoning_tokens=thinking,
            extra=requests,
        )
    )
