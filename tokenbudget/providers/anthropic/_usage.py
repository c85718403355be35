"""Anthropic's usage objects, normalised into :class:`~tokenbudget.Usage`.

Anthropic's ``input_tokens`` *excludes* cache reads and writes: normalised
input adds them back. ``output_tokens`` already includes thinking. Server tool
requests (``server_tool_use``) are billed per request and go to ``Usage.extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..._data import Usage, make_usage

__all__ = ["normalise_anthropic_usage"]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _details(usage: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = usage.get(key)
    return found if isinstance(found, Mapping) else {}


def normalise_anthropic_usage(usage: Mapping[str, Any]) -> Usage:
    """Normalise an Anthropic ``usage`` object (a message's, or the merged stream's)."""
    cache_read = _int(usage.get("cache_read_input_tokens"))
    cache_write = _int(usage.get("cache_creation_input_tokens"))
    write_1h = _int(_details(usage, "cache_creation").get("ephemeral_1h_input_tokens"))
    thinking = _int(_details(usage, "output_tokens_details").get("thinking_tokens"))
    tools = _details(usage, "server_tool_use")
    requests = {key: value for key, value in tools.items() if _int(value) > 0}
    return make_usage(
        input_tokens=_int(usage.get("input_tokens")) + cache_read + cache_write,
        output_tokens=_int(usage.get("output_tokens")),
        cached_input_tokens=cache_read,
        cache_write_tokens=cache_write,
        cache_write_1h_tokens=min(write_1h, cache_write),
        reasoning_tokens=thinking,
        extra=MappingProxyType(requests),
    )
