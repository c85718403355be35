"""Which Gemini or Vertex AI endpoint a request is for, read off its model path.

Requests name the model in the URL path, ``.../models/{model}:{method}``. Vertex
AI also serves Anthropic models (``publishers/anthropic/...``) and an
OpenAI-compatible API, as does the Gemini API: those go to the Anthropic and
OpenAI-compatible providers, under this provider's name.

The service tier asked for (flex, priority) is Vertex AI's
``X-Vertex-AI-LLM-Shared-Request-Type`` header or the Gemini API body's
``serviceTier``; the answer's own report (:mod:`._reader`) wins over it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..._core import Endpoint, RequestView, UsageReader
from .._base import Provider
from .._tokens import count_text_tokens
from ..anthropic import AnthropicProvider
from ..compatible import CompatibleProvider, normalise_openai_compatible_usage
from ._content import part_texts, request_contents
from ._reader import GeminiReader, gemini_service_tier

__all__ = ["VERTEX_HOSTS", "VERTEX_HOST_SUFFIXES", "GoogleProvider", "parse_model_path"]

#: Vertex AI hosts: global, multi-region (``us``/``eu``) and mTLS endpoints.
VERTEX_HOSTS = [
    "aiplatform.googleapis.com",
    "aiplatform.mtls.googleapis.com",
    "aiplatform.us.rep.googleapis.com",
    "aiplatform.eu.rep.googleapis.com",
]
#: Regional Vertex AI hosts: ``{location}-aiplatform.googleapis.com``.
VERTEX_HOST_SUFFIXES = ["-aiplatform.googleapis.com", "-aiplatform.mtls.googleapis.com"]

# ".../{publishers/x/}models/{model}:{method}", or a Vertex tuned-model endpoint.
_MODEL_PATH = re.compile(
    r"/(?:[^:]*?/)?(?:publishers/(?P<publisher>[^/:]+)/)?"
    r"(?:models|tunedModels|endpoints)/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$"
)
_GENERATE = {"generateContent": False, "streamGenerateContent": True}
_EMBED = {"embedContent", "batchEmbedContents"}
_FREE = {"countTokens", "computeTokens"}
_ANTHROPIC = {"rawPredict": False, "streamRawPredict": True}
#: Vertex AI's request header choosing Flex or Priority PayGo.
VERTEX_TIER_HEADER = "x-vertex-ai-llm-shared-request-type"


def parse_model_path(path: str) -> tuple[str | None, str, str] | None:
    """``(publisher, model, method)`` of a Gemini/Vertex model path, or ``None``."""
    found = _MODEL_PATH.search(path)
    if found is None:
        return None
    return found["publisher"], found["model"], found["method"]


def body_tier(request: RequestView) -> str | None:
    """The tier a Gemini API generate request's body asks for (``serviceTier``), if any."""
    if b"serviceTier" not in request.body:  # most requests: no JSON parse for the tier
        return None
    body = request.json
    return gemini_service_tier(body.get("serviceTier")) if isinstance(body, Mapping) else None


class GoogleProvider(Provider):
    """Gemini models at the Gemini API (``"google"``) or Vertex AI (``"vertex"``)."""

    api = "Gemini"

    def __init__(self, name: str = "google") -> None:
        self.name = name
        self._anthropic = AnthropicProvider(name)
        self._openai = CompatibleProvider(
            name, inject_usage=False, normalise=normalise_openai_compatible_usage
        )

    def match(self, request: RequestView) -> Endpoint | None:
        if request.method != "POST":
            return None
        path = request.path
        if "/openai/" in path or "/endpoints/openapi/" in path:
            return self._openai.match(request)
        endpoint = self.match_model_path(request)
        if endpoint is not None and endpoint.kind == "generate_content":
            endpoint.service_tier = endpoint.service_tier or body_tier(request)
        return endpoint

    def match_model_path(self, request: RequestView) -> Endpoint | None:
        """The endpoint of a ``.../models/{model}:{method}`` request, or ``None``.

        Reads no body, except for Claude on Vertex (``publishers/anthropic``),
        whose body names the model of a token count. The tier asked for is
        Vertex's header here; the Gemini API body's ``serviceTier`` is read by
        :meth:`match` only, at Google's own hosts (the any-host fallback reads
        no body for a model path).
        """
        parsed = parse_model_path(request.path)
        if parsed is None:
            return None
        publisher, model, method = parsed
        if publisher == "anthropic":
            return self._match_anthropic(request, model, method)
        stream, tier = False, None
        if method in _GENERATE:
            kind, stream = "generate_content", _GENERATE[method]
            tier = gemini_service_tier(request.headers.get(VERTEX_TIER_HEADER))
        elif method in _EMBED or (method == "predict" and "embedding" in model):
            kind = "embeddings"
        elif method in _FREE:
            kind = "count_tokens"
        else:
            return None
        return Endpoint(
            provider=self.name,
            kind=kind,
            handler=self,
            request_model=model,
            stream=stream,
            billable=kind != "count_tokens",
            host=request.host,
            service_tier=tier,
        )

    def _match_anthropic(self, request: RequestView, model: str, method: str) -> Endpoint | None:
        if method not in _ANTHROPIC:
            return None
        body = request.json
        if not isinstance(body, Mapping):
            return None
        billable = model != "count-tokens"
        return Endpoint(
            provider=self.name,
            kind="messages" if billable else "count_tokens",
            handler=self._anthropic,
            request_model=model if billable else body.get("model"),
            stream=billable and (_ANTHROPIC[method] or body.get("stream") is True),
            billable=billable,
            host=request.host,
        )

    def reader(self, endpoint: Endpoint) -> UsageReader:
        return GeminiReader(endpoint)

    def estimate_input_tokens(self, endpoint: Endpoint, request: RequestView) -> int:
        body = request.json
        if not isinstance(body, Mapping):
            return 0
        model = endpoint.request_model
        texts: list[str] = []
        for content in request_contents(body):
            texts.extend(part_texts(content))
        return sum(count_text_tokens(text, model)[0] for text in texts if text)

    def max_output_tokens(self, endpoint: Endpoint, request: RequestView) -> int | None:
        if endpoint.kind != "generate_content":
            return 0
        body = request.json
        config = body.get("generationConfig") if isinstance(body, Mapping) else None
        value = config.get("maxOutputTokens") if isinstance(config, Mapping) else None
        return value if isinstance(value, int) else None

    def max_output_fields(
        self, endpoint: Endpoint, request: RequestView, value: int
    ) -> dict[str, Any]:
        body = request.json
        config = body.get("generationConfig") if isinstance(body, Mapping) else None
        if endpoint.kind != "generate_content" and not isinstance(config, Mapping):
            return super().max_output_fields(endpoint, request, value)
        settings = dict(config) if isinstance(config, Mapping) else {}
        return {"generationConfig": {**settings, "maxOutputTokens": value}}
