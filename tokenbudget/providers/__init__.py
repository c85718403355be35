"""Providers: how each API's requests are recognised and its usage read.

Built in: OpenAI and Azure (:mod:`.openai`), Anthropic (:mod:`.anthropic`),
Gemini and Vertex AI (:mod:`.google`), OpenAI-compatible hosts
(:mod:`.compatible`), and for every other host, gateways and local servers
included, :class:`AnyHostProvider`, which tells the OpenAI, Anthropic and Gemini
APIs apart by their paths and marks the call with the host (``via``) so that the
tracker prices it by model name (``_anyhost``). Each API is a package that owns
all its wire knowledge behind its ``__init__``; other packages use only the
names it exports.

To track a host tokenbudget does not know, register a :class:`Provider` for it
(a :class:`~.custom.CustomProvider` needs only a few functions), or map the
host to a built-in provider with ``TokenTracker(hosts=...)``.

Every number a provider reports passes one validation boundary,
:class:`UsageFigures`: a token count is an int from 0 to :data:`MAX_TOKENS`; any
other value is dropped, counted locally, and the call recorded as estimated
with the reason (``invalid usage: completion_tokens='12'``).
"""

from __future__ import annotations

from collections.abc import Iterable

from .._core import Endpoint, EventFilter, Observation, OutputText, RequestView, UsageReader
from .._data import MAX_TOKENS
from ._anyhost import AnyHostProvider
from ._base import OUTPUT_LIMIT_KEYS, Provider
from ._figures import UsageFigures
from ._registry import ProviderRegistry, default_registry
from ._tokens import count_output_tokens, count_text_tokens, encoding_name_for_model
from .anthropic import AnthropicProvider, normalise_anthropic_usage
from .compatible import OpenAICompatibleProvider, normalise_openai_compatible_usage
from .custom import CustomProvider
from .google import GoogleProvider, normalise_gemini_usage
from .openai import OpenAIProvider, normalise_openai_usage

__all__ = [
    "MAX_TOKENS",
    "OUTPUT_LIMIT_KEYS",
    "AnthropicProvider",
    "AnyHostProvider",
    "CustomProvider",
    "Endpoint",
    "EventFilter",
    "GoogleProvider",
    "Observation",
    "OpenAICompatibleProvider",
    "OpenAIProvider",
    "OutputText",
    "Provider",
    "ProviderRegistry",
    "RequestView",
    "UsageFigures",
    "UsageReader",
    "count_output_tokens",
    "count_text_tokens",
    "default_registry",
    "encoding_name_for_model",
    "normalise_anthropic_usage",
    "normalise_gemini_usage",
    "normalise_openai_compatible_usage",
    "normalise_openai_usage",
    "register_provider",
]


def register_provider(
    provider: Provider, *, hosts: Iterable[str] = (), host_suffixes: Iterable[str] = ()
) -> Provider:
    """Track requests to ``hosts`` / ``*host_suffixes`` with ``provider``, in every tracker."""
    return default_registry.register(provider, hosts=hosts, host_suffixes=host_suffixes)
