"""Any host: which API a request speaks, told by its path, for hosts no provider claims.

A LiteLLM proxy, a company gateway or a server on localhost speaks the OpenAI,
Anthropic or Gemini API without being api.openai.com, api.anthropic.com or
generativelanguage.googleapis.com. :class:`AnyHostProvider` recognises each
API by the request's method, path and content type first; only a distinctive
path makes it read a body:

- **OpenAI** (:class:`~.compatible.OpenAICompatibleProvider`): a JSON ``POST``
  to ``.../chat/completions``, ``.../v1/completions``, ``.../v1/embeddings`` or
  ``.../v1/responses`` (any prefix, e.g. ``/openai/v1/responses``) whose body
  names a ``model``.
- **Anthropic**: a JSON ``POST`` to ``.../v1/messages`` or
  ``.../v1/messages/count_tokens`` whose body names a ``model`` and has a
  ``messages`` list (a messaging API's ``/v1/messages`` passes untouched).
- **Gemini**: a JSON ``POST`` to ``.../models/{model}:{method}`` with the
  Google provider's own rules (``generateContent``, ``streamGenerateContent``,
  ``embedContent``, ``batchEmbedContents``, free ``countTokens``; Vertex
  ``projects/.../publishers/google/models/...`` paths too). The model is in the
  path: no body is read.

Every other request passes through unread. A recognised call is marked with its
host (:func:`._via.mark_via`): the tracker then prices it by its model name at
the list price of the provider the price book knows the model from, records
that provider and keeps the host in ``CallRecord.via``. An unknown model stays
``local`` (free) on loopback and ``openai-compatible`` /
``anthropic-compatible`` / ``gemini-compatible`` (unpriced, model labelled
``"{host}/{model}"``) elsewhere.

Local servers on their usual ports (Ollama ``:11434``, vLLM ``:8000``, LM
Studio ``:1234``) get an :class:`AnyHostProvider` of their own that asks
Ollama and vLLM streams for their usage. The provider named ``"local"``, the
one ``TokenTracker(hosts={"localhost:4000": "local"})`` maps a host to, is
not *assumed*: a host mapped to it is free, silently, whatever its models.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._core import Endpoint, RequestView, UsageReader
from ._base import Provider
from ._via import Labelled, mark_via
from .anthropic import AnthropicProvider, AnthropicReader
from .compatible import OPENAI_PATH, OpenAICompatibleProvider
from .google import GeminiReader, GoogleProvider, parse_model_path

if TYPE_CHECKING:
    from ._registry import ProviderRegistry

__all__ = ["AnyHostProvider", "register_any_host"]

_ANTHROPIC_PATH = re.compile(r"/v1/messages(?:/count_tokens)?/?$")

#: Local servers' usual ports, and whether they document ``stream_options.include_usage``.
LOCAL_PORTS = (("11434", True), ("8000", True), ("1234", False))


class _LabelledAnthropicReader(Labelled, AnthropicReader):
    """Anthropic answers at an unknown host: the model labelled with the host."""


class _LabelledGeminiReader(Labelled, GeminiReader):
    """Gemini answers at an unknown host: the model labelled with the host."""


class _AnthropicShape(AnthropicProvider):
    """Anthropic Messages requests at a host that is not Anthropic's."""

    def __init__(self, name: str, local_name: str, assumed: bool) -> None:
        super().__init__(name)
        self.local_name = local_name
        self.assumed = assumed

    def match(self, request: RequestView) -> Endpoint | None:
        endpoint = super().match(request)
        if endpoint is None or not endpoint.request_model:
            return None
        body = request.json  # parsed once, by the match above
        if not isinstance(body, Mapping) or not isinstance(body.get("messages"), list):
            return None
        return mark_via(endpoint, request, local_name=self.local_name, assumed=self.assumed)

    def reader(self, endpoint: Endpoint) -> UsageReader:
        if endpoint.model_label is None:
            return AnthropicReader(endpoint)
        return _LabelledAnthropicReader(endpoint)


class _GeminiShape(GoogleProvider):
    """Gemini ``models/{model}:{method}`` requests at a host that is not Google's."""

    def __init__(self, name: str, local_name: str, assumed: bool) -> None:
        super().__init__(name)
        self.local_name = local_name
        self.assumed = assumed

    def match(self, request: RequestView) -> Endpoint | None:
        endpoint = self.match_model_path(request)
        if endpoint is None:
            return None
        return mark_via(endpoint, request, local_name=self.local_name, assumed=self.assumed)

    def reader(self, endpoint: Endpoint) -> UsageReader:
        if endpoint.model_label is None:
            return GeminiReader(endpoint)
        return _LabelledGeminiReader(endpoint)


class AnyHostProvider(Provider):
    """The OpenAI, Anthropic and Gemini APIs at any host, recognised by their paths.

    Args:
        name: the provider every API's calls are recorded under; default
            (``None``): ``openai-compatible``, ``anthropic-compatible`` and
            ``gemini-compatible`` by API.
        local_name: what calls to a loopback host are recorded under.
        inject_usage: ask OpenAI-style chat streams for their usage
            (``stream_options``); only for servers that document it.
        assumed: True when tokenbudget, not the user, decided what the host is:
            calls are marked with the host (``via``) and priced by model name.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        local_name: str = "local",
        inject_usage: bool = False,
        assumed: bool = True,
    ) -> None:
        self.name = name or "openai-compatible"
        self.assumed = assumed
        self._openai = OpenAICompatibleProvider(
            self.name, local_name=local_name, inject_usage=inject_usage, assumed=assumed
        )
        self._anthropic = _AnthropicShape(name or "anthropic-compatible", local_name, assumed)
        self._gemini = _GeminiShape(name or "gemini-compatible", local_name, assumed)

    def match(self, request: RequestView) -> Endpoint | None:
        if request.method != "POST":
            return None
        path = request.path
        shape: Provider
        if OPENAI_PATH.search(path):
            shape = self._openai
        elif _ANTHROPIC_PATH.search(path):
            shape = self._anthropic
        elif ":" in path and parse_model_path(path) is not None:
            shape = self._gemini
        else:
            return None
        if "json" not in request.headers.get("content-type", "").lower():
            return None
        return shape.match(request)

    def reader(self, endpoint: Endpoint) -> UsageReader:
        # Endpoints are handled by the API's own provider (``endpoint.handler``).
        handler = endpoint.handler
        if handler is self:
            raise TypeError("an AnyHostProvider endpoint is read by its API's provider")
        return handler.reader(endpoint)


def register_any_host(registry: ProviderRegistry) -> None:
    """Register local servers' ports, the explicit ``local`` provider and the fallback."""
    # First, so that hosts=... and register_host(..., "local") map to it: free, unmarked.
    registry.register(AnyHostProvider("local", inject_usage=True, assumed=False))
    for port, inject in LOCAL_PORTS:
        local = AnyHostProvider("local", inject_usage=inject)
        registry.register(local, hosts=[f"{host}:{port}" for host in ("localhost", "127.0.0.1")])
    registry.register_fallback(AnyHostProvider())
