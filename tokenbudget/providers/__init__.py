"""Provider modules: how each API's requests are recognised and its usage read.

To track a host tokenbudget does not know, register a :class:`Provider` for it
(or map the host to a built-in provider with ``TokenTracker(hosts=...)``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ._base import Endpoint, EventFilter, Observation, Provider, RequestView, UsageReader
from ._registry import ProviderRegistry, default_registry
from .openai import OpenAIProvider, normalise_openai_usage

__all__ = [
    "Endpoint",
    "EventFilter",
    "Observation",
    "OpenAIProvider",
    "Provider",
    "ProviderRegistry",
    "RequestView",
    "UsageReader",
    "default_registry",
    "normalise_openai_usage",
    "register_provider",
]


def register_provider(
    provider: Provider, *, hosts: Iterable[str] = (), host_suffixes: Iterable[str] = ()
) -> Provider:
    """Track requests to ``hosts`` / ``*host_suffixes`` with ``provider``, in every tracker."""
    return default_registry.register(provider, hosts=hosts, host_suffixes=host_suffixes)
