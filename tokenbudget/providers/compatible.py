"""OpenAI-compatible hosts: same API shape, their own ways of counting.

Every host here speaks the OpenAI chat/completions/embeddings API and is read
with :class:`~tokenbudget.providers.openai.OpenAIProvider`, but "compatible"
is not "identical". Per host (each from its own API reference):

- **groq** (``api.groq.com``): OpenAI usage; streams report usage in the last
  chunk's ``x_groq.usage`` without being asked (newer answers repeat it as
  ``usage``), so no ``stream_options`` are added.
- **deepseek** (``api.deepseek.com``): ``prompt_tokens`` = ``prompt_cache_hit_tokens``
  + ``prompt_cache_miss_tokens``; the hits are the cached input.
  ``completion_tokens`` includes ``reasoning_tokens``. Accepts ``stream_options``.
- **mistral** (``api.mistral.ai``, ``codestral.mistral.ai``): OpenAI usage; streams
  carry usage in their last chunk unasked; ``stream_options`` is not part of its API.
- **xai** (``api.x.ai``): ``completion_tokens`` *excludes*
  ``completion_tokens_details.reasoning_tokens`` (``total_tokens`` = prompt +
  completion + reasoning): output is completion plus reasoning.
  ``num_sources_used`` (Live Search sources, billed per source) goes to
  ``Usage.extra["search_sources"]``. Accepts ``stream_options``.
- **together** (``api.together.xyz``, ``api.together.ai``) and **fireworks**
  (``api.fireworks.ai``): OpenAI usage, reported in the last stream chunk unasked.
- **perplexity** (``api.perplexity.ai``): ``citation_tokens`` (search results read)
  are input beside ``prompt_tokens``; top-level ``reasoning_tokens`` are output
  beside ``completion_tokens`` (priced at the model's ``reasoning`` price where
  it has one: ``sonar-deep-research``); ``num_search_queries`` goes to
  ``Usage.extra["web_search_requests"]``, and the request itself to
  ``Usage.extra["requests_<size>"]`` (``requests_low``, ``requests_medium``,
  ``requests_high``) by the ``search_context_size`` the answer reports, so the
  per-request fee of that size is billed; ``usage.cost.total_cost`` (dollars),
  when present, is the reported cost. Usage is in the last stream chunks unasked.
- **openrouter** (``openrouter.ai``): OpenAI usage plus
  ``prompt_tokens_details.cache_write_tokens`` (part of ``prompt_tokens``) and
  ``usage.cost``, the credits (dollars) charged, which is the reported cost;
  with ``is_byok`` the upstream provider's ``cost_details.upstream_inference_cost``
  is added. Streams always end with a ``choices: []`` usage chunk (its API
  reference: ``stream_options.include_usage`` "has no effect. Full usage details
  are always included"), so nothing is added and nothing hidden: that chunk is
  the provider's own.
- **local** (Ollama ``:11434``, vLLM ``:8000``, LM Studio ``:1234`` on
  ``localhost``/``127.0.0.1``, and any other loopback host): tokens are recorded
  and a model the price book does not sell costs zero (``llama3.2``), unless a
  price is registered for it. A model it sells at a paying provider (``gpt-4o``:
  a LiteLLM proxy on localhost) is priced at that provider's list price, the
  record names the host (``via``) and a warning says so once per host and model:
  never $0 silently. ``TokenTracker(hosts={"localhost:4000": "local"})`` is the
  explicit choice of free. ``stream_options`` is added for Ollama and vLLM,
  which document it.
- **openai-compatible**: any other host, when the request is a JSON ``POST`` to an
  OpenAI-style path (``.../chat/completions``, ``.../v1/completions``,
  ``.../v1/embeddings``, ``.../v1/responses``, any prefix) naming a ``model``
  (:class:`OpenAICompatibleProvider`; the Anthropic and Gemini APIs at any host
  are recognised beside it, see ``tokenbudget.providers._anyhost``). Other
  requests to unknown hosts are never read. Nothing is added to the request. A
  model the price book sells is recorded under its provider (``gpt-4o`` ->
  ``openai``) at its list price, the host in ``via``, and the host named once in
  the log; an unknown model stays ``openai-compatible`` (unpriced) with the
  record's model ``"{host}/{model}"`` so that calls to different hosts stay
  apart; ``request_model`` keeps the name the caller sent.

Every host's usage also goes through :func:`normalise_openai_compatible_usage`,
which adds reasoning tokens to the output when the host's own ``total_tokens``
shows that ``completion_tokens`` left them out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._core import INVALID_USAGE, Endpoint, RequestView, UsageReader
from .._data import Usage, is_count
from ._base import Provider
from ._figures import UsageFigures, validating
from ._via import Labelled, mark_via
from .openai import OpenAIProvider, OpenAIReader, UsageNormaliser, normalise_openai_usage

if TYPE_CHECKING:
    from ._registry import ProviderRegistry

__all__ = [
    "OPENAI_PATH",
    "CompatibleProvider",
    "CompatibleReader",
    "GroqProvider",
    "OpenAICompatibleProvider",
    "normalise_deepseek_usage",
    "normalise_openai_compatible_usage",
    "normalise_openrouter_usage",
    "normalise_perplexity_usage",
    "normalise_xai_usage",
    "register_compatible_hosts",
]

#: Distinctive OpenAI-style paths: only these make a request to an unknown host be read.
OPENAI_PATH = re.compile(
    r"(?:/chat/completions|/v\d+[a-z0-9]*/(?:completions|embeddings|responses))$"
)


def _figure(value: Any) -> int:
    """A figure used only to check the host's arithmetic: a valid count, else 0.

    The figures that are recorded go through :class:`UsageFigures`, which notes
    invalid ones; ``total_tokens`` is never recorded, only compared.
    """
    return value if is_count(value) else 0


def _details(usage: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = usage.get(key)
    return found if isinstance(found, Mapping) else {}


def _split_figures(usage: Mapping[str, Any]) -> tuple[int, int, int]:
    """``(input, output, total)`` as reported, in either the chat or the Responses shape."""
    if "input_tokens" in usage or "output_tokens" in usage:
        return (
            _figure(usage.get("input_tokens")),
            _figure(usage.get("output_tokens")),
            _figure(usage.get("total_tokens")),
        )
    return (
        _figure(usage.get("prompt_tokens")),
        _figure(usage.get("completion_tokens")),
        _figure(usage.get("total_tokens")),
    )


def _with_figures(normalised: Usage, figures: UsageFigures, **changes: Any) -> Usage:
    """``normalised`` with ``changes``, marked estimated if ``figures`` dropped any."""
    if normalised.estimate_reason is not None and figures.problems is not None:
        # the OpenAI part dropped some too: one reason names them all
        figures.problems[:0] = [normalised.estimate_reason[len(INVALID_USAGE) + 2 :]]
    return figures.usage(replace(normalised, **changes) if changes else normalised)


@validating
def normalise_openai_compatible_usage(usage: Mapping[str, Any]) -> Usage:
    """OpenAI's conventions, but reasoning is added to output when the total shows it left out.

    A host that follows OpenAI reports ``total = prompt + completion``; one that
    leaves reasoning out of ``completion_tokens`` reports
    ``total = prompt + completion + reasoning``. Only that exact arithmetic
    changes the figures.
    """
    normalised = normalise_openai_usage(usage)
    reasoning = normalised.reasoning_tokens
    prompt, completion, total = _split_figures(usage)
    if reasoning and total == prompt + completion + reasoning:
        return _with_figures(normalised, UsageFigures(), output_tokens=completion + reasoning)
    return normalised


@validating
def normalise_deepseek_usage(usage: Mapping[str, Any]) -> Usage:
    """DeepSeek: ``prompt_cache_hit_tokens`` are the cached part of ``prompt_tokens``."""
    figures = UsageFigures()
    hits_value = usage.get("prompt_cache_hit_tokens")
    hits = figures.count(hits_value, "prompt_cache_hit_tokens")
    misses = figures.count(usage.get("prompt_cache_miss_tokens"), "prompt_cache_miss_tokens")
    if "prompt_tokens" not in usage and is_count(hits_value):
        # The hits and misses are the prompt: the missing total is no fault.
        normalised = normalise_openai_compatible_usage({**usage, "prompt_tokens": hits + misses})
    else:
        normalised = normalise_openai_compatible_usage(usage)
    if is_count(hits_value):
        return _with_figures(normalised, figures, cached_input_tokens=hits)
    return _with_figures(normalised, figures)


@validating
def normalise_xai_usage(usage: Mapping[str, Any]) -> Usage:
    """xAI: reasoning tokens are billed as output but left out of ``completion_tokens``."""
    normalised = normalise_openai_usage(usage)
    reasoning = normalised.reasoning_tokens
    prompt, completion, total = _split_figures(usage)
    figures = UsageFigures()
    if reasoning and (total == 0 or total == prompt + completion + reasoning):
        normalised = replace(normalised, output_tokens=completion + reasoning)
    sources = figures.count(usage.get("num_sources_used"), "num_sources_used")
    if sources:
        extra = MappingProxyType({**normalised.extra, "search_sources": sources})
        return _with_figures(normalised, figures, extra=extra)
    return _with_figures(normalised, figures)


#: Perplexity's ``search_context_size`` values, each with its own per-request fee.
_CONTEXT_SIZES = frozenset(("low", "medium", "high"))


@validating
def normalise_perplexity_usage(usage: Mapping[str, Any]) -> Usage:
    """Perplexity: citation tokens are input, reasoning tokens output, cost reported."""
    normalised = normalise_openai_usage(usage)
    figures = UsageFigures()
    citation = figures.count(usage.get("citation_tokens"), "citation_tokens")
    reasoning = figures.count(usage.get("reasoning_tokens"), "reasoning_tokens")
    searches = figures.count(usage.get("num_search_queries"), "num_search_queries")
    cost = figures.cost(_details(usage, "cost").get("total_cost"), "cost.total_cost")
    units = dict(normalised.extra)
    if searches:
        units["web_search_requests"] = searches
    size = usage.get("search_context_size")
    if isinstance(size, str) and size in _CONTEXT_SIZES:
        units[f"requests_{size}"] = 1
    return _with_figures(
        normalised,
        figures,
        input_tokens=normalised.input_tokens + citation,
        output_tokens=normalised.output_tokens + reasoning,
        reasoning_tokens=normalised.reasoning_tokens + reasoning,
        extra=MappingProxyType(units) if units else normalised.extra,
        reported_cost_usd=cost,
    )


@validating
def normalise_openrouter_usage(usage: Mapping[str, Any]) -> Usage:
    """OpenRouter: cache writes in ``prompt_tokens_details``, the charge in ``usage.cost``."""
    normalised = normalise_openai_compatible_usage(usage)
    figures = UsageFigures()
    writes = figures.count(
        _details(usage, "prompt_tokens_details").get("cache_write_tokens"),
        "prompt_tokens_details.cache_write_tokens",
    )
    cost = figures.cost(usage.get("cost"), "cost")
    if cost is not None and usage.get("is_byok") is True:
        upstream = figures.cost(
            _details(usage, "cost_details").get("upstream_inference_cost"),
            "cost_details.upstream_inference_cost",
        )
        cost += upstream or 0
    return _with_figures(normalised, figures, cache_write_tokens=writes, reported_cost_usd=cost)


class CompatibleReader(OpenAIReader):
    """OpenAI's reader, also taking usage on a finishing chunk as the end of a stream.

    Not every compatible host ends its streams with ``data: [DONE]``; a chunk
    carrying usage with a ``finish_reason`` (or no choices) is the last word.
    """

    def _on_chunk(self, chunk: Mapping[str, Any]) -> None:
        super()._on_chunk(chunk)
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            choices = []
        if isinstance(chunk.get("usage"), Mapping) and (
            not choices or any(isinstance(c, Mapping) and c.get("finish_reason") for c in choices)
        ):
            self.observation.complete = True


class CompatibleProvider(OpenAIProvider):
    """An OpenAI-compatible host: :class:`OpenAIProvider` with :class:`CompatibleReader`."""

    chat_output_limit = "max_tokens"

    def reader(self, endpoint: Endpoint) -> UsageReader:
        return CompatibleReader(endpoint, self.normalise)


class GroqReader(CompatibleReader):
    """Groq streams put usage in the final chunk's ``x_groq.usage``."""

    def _on_chunk(self, chunk: Mapping[str, Any]) -> None:
        groq = chunk.get("x_groq")
        usage = groq.get("usage") if isinstance(groq, Mapping) else None
        if chunk.get("usage") is None and isinstance(usage, Mapping):
            chunk = {**chunk, "usage": usage}
        super()._on_chunk(chunk)


class GroqProvider(CompatibleProvider):
    """Groq's OpenAI-compatible API (``/openai/v1/...``), reading ``x_groq.usage``."""

    def __init__(self, name: str = "groq") -> None:
        super().__init__(name, inject_usage=False, normalise=normalise_openai_compatible_usage)

    def reader(self, endpoint: Endpoint) -> UsageReader:
        return GroqReader(endpoint, self.normalise)


class _LabelledReader(Labelled, CompatibleReader):
    """Records the billed model as ``"{host}/{model}"`` (see :class:`._via.Labelled`)."""


class OpenAICompatibleProvider(CompatibleProvider):
    """OpenAI-style requests at a host that is not their provider's: a gateway or a local server.

    Only JSON ``POST`` requests to OpenAI-style paths naming a model; nothing is
    added to the request unless ``inject_usage``. With ``assumed`` (the host
    was not mapped by the user) the endpoint is marked with the host
    (:func:`._via.mark_via`): recorded as ``local_name`` on loopback, as
    ``name`` with the host in the model elsewhere, until the tracker prices it
    by its model name.
    """

    def __init__(
        self,
        name: str = "openai-compatible",
        *,
        local_name: str = "local",
        inject_usage: bool = False,
        assumed: bool = True,
    ) -> None:
        super().__init__(
            name, inject_usage=inject_usage, normalise=normalise_openai_compatible_usage
        )
        self.local_name = local_name
        self.assumed = assumed

    def match(self, request: RequestView) -> Endpoint | None:
        if request.method != "POST" or not OPENAI_PATH.search(request.path):
            return None
        if "json" not in request.headers.get("content-type", "").lower():
            return None
        endpoint = super().match(request)
        if endpoint is None or not endpoint.request_model:
            return None
        return mark_via(endpoint, request, local_name=self.local_name, assumed=self.assumed)

    def reader(self, endpoint: Endpoint) -> UsageReader:
        if endpoint.model_label is None:
            return CompatibleReader(endpoint, self.normalise)
        return _LabelledReader(endpoint, self.normalise)


def _compatible(name: str, inject: bool, normalise: UsageNormaliser) -> CompatibleProvider:
    return CompatibleProvider(name, inject_usage=inject, normalise=normalise)


def register_compatible_hosts(registry: ProviderRegistry) -> None:
    """Register every known OpenAI-compatible API host (local servers and any other
    host are registered by ``tokenbudget.providers._anyhost``)."""
    plain = normalise_openai_compatible_usage
    table: list[tuple[Provider, list[str], list[str]]] = [
        (GroqProvider(), ["api.groq.com"], []),
        (_compatible("deepseek", True, normalise_deepseek_usage), ["api.deepseek.com"], []),
        (_compatible("mistral", False, plain), ["api.mistral.ai", "codestral.mistral.ai"], []),
        (_compatible("xai", True, normalise_xai_usage), ["api.x.ai"], [".api.x.ai"]),
        (_compatible("together", False, plain), ["api.together.xyz", "api.together.ai"], []),
        (_compatible("fireworks", False, plain), ["api.fireworks.ai"], []),
        (_compatible("perplexity", False, normalise_perplexity_usage), ["api.perplexity.ai"], []),
        (_compatible("openrouter", False, normalise_openrouter_usage), ["openrouter.ai"], []),
    ]
    for provider, hosts, suffixes in table:
        registry.register(provider, hosts=hosts, host_suffixes=suffixes)
