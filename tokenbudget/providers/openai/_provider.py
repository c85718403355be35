"""Which OpenAI endpoint a request is for, and what the provider does with it."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from ..._core import Endpoint, EventFilter, RequestView, UsageReader
from .._base import OUTPUT_LIMIT_KEYS, Provider
from ._prompt import count_chat_prompt, count_prompt, count_responses_prompt
from ._reader import OpenAIReader
from ._stream import HIDE_INJECTED_USAGE, request_usage
from ._usage import UsageNormaliser, normalise_openai_usage

__all__ = ["OpenAIProvider", "azure_deployment", "endpoint_kind"]

_AZURE_DEPLOYMENT = re.compile(r"/openai/deployments/([^/]+)/")

# Last path segment -> endpoint kind ("completions" is "chat" under ".../chat/").
_KINDS = {"completions": "completions", "responses": "responses", "embeddings": "embeddings"}


@functools.lru_cache(maxsize=512)  # an app posts to a handful of paths, again and again
def endpoint_kind(path: str) -> str | None:
    """The endpoint kind of an OpenAI API path (``chat``, ``responses``...), or ``None``."""
    kind = _KINDS.get(path[path.rfind("/") + 1 :])
    if kind == "completions" and path.endswith("/chat/completions"):
        return "chat"
    return kind


def azure_deployment(path: str) -> str | None:
    """The deployment an Azure OpenAI path names (``/openai/deployments/{name}/...``).

    Azure requests name a deployment in the path instead of a model in the body;
    it stands for the requested model until the answer names the billed one.
    """
    found = _AZURE_DEPLOYMENT.search(path)
    return found.group(1) if found else None


class OpenAIProvider(Provider):
    """The OpenAI API shape, at api.openai.com, Azure, or any host that speaks it.

    ``inject_usage`` says whether the host is known to accept
    ``stream_options.include_usage`` (then tokenbudget may add it).
    ``normalise`` converts the host's usage object; hosts that count differently
    from OpenAI pass their own.
    """

    #: The field that limits a chat answer's length: OpenAI and Azure deprecated
    #: ``max_tokens`` for chat; compatible hosts still name it so.
    chat_output_limit = "max_completion_tokens"
    api = "OpenAI"

    def __init__(
        self,
        name: str = "openai",
        *,
        inject_usage: bool = True,
        normalise: UsageNormaliser = normalise_openai_usage,
    ) -> None:
        self.name = name
        self.inject_usage = inject_usage
        self.normalise = normalise

    def match(self, request: RequestView) -> Endpoint | None:
        if request.method != "POST":
            return None
        kind = endpoint_kind(request.path)
        if kind is None:
            return None
        body = request.json
        if type(body) is not dict and not isinstance(body, Mapping):
            return None
        model = body.get("model")
        tier = body.get("service_tier")
        # By position (provider, kind, handler, request_model, stream, billable, host,
        # service_tier): keywords would build a dict on every call.
        return Endpoint(
            self.name,
            kind,
            self,
            model if isinstance(model, str) else azure_deployment(request.path),
            body.get("stream") is True,
            True,
            request.host,
            tier if isinstance(tier, str) else None,
        )

    def prepare(self, endpoint: Endpoint, request: RequestView) -> bytes | None:
        if not (self.inject_usage and endpoint.stream and endpoint.kind == "chat"):
            return None
        body = request_usage(request.json, request.body)
        if body is not None:
            endpoint.usage_injected = True
        return body

    def cacheable(self, endpoint: Endpoint, request: RequestView) -> bool:
        # A Responses request with "background": true is answered at once with a
        # queued response, not the answer: a replay would hand back a stale status.
        if endpoint.kind != "responses":
            return True
        body = request.json
        return not (isinstance(body, Mapping) and body.get("background") is True)

    def event_filter(self, endpoint: Endpoint) -> EventFilter | None:
        return HIDE_INJECTED_USAGE if endpoint.usage_injected else None

    def reader(self, endpoint: Endpoint) -> UsageReader:
        return OpenAIReader(endpoint, self.normalise)

    def estimate_input_tokens(self, endpoint: Endpoint, request: RequestView) -> int:
        body = request.json
        if not isinstance(body, Mapping):
            return 0
        model = endpoint.request_model
        kind = endpoint.kind
        if kind == "chat":
            return count_chat_prompt(body.get("messages"), model)
        if kind == "responses":
            return count_responses_prompt(body.get("instructions"), body.get("input"), model)
        if kind == "embeddings":
            return count_prompt(body.get("input"), model)
        return count_prompt(body.get("prompt"), model)

    def max_output_tokens(self, endpoint: Endpoint, request: RequestView) -> int | None:
        body = request.json
        if not isinstance(body, Mapping):
            return None
        if endpoint.kind == "embeddings":
            return 0
        for key in OUTPUT_LIMIT_KEYS:
            value = body.get(key)
            if isinstance(value, int):
                return value
        return 16 if endpoint.kind == "completions" else None

    def output_limit_field(self, endpoint: Endpoint) -> str:
        if endpoint.kind == "responses":
            return "max_output_tokens"
        return self.chat_output_limit if endpoint.kind == "chat" else "max_tokens"
