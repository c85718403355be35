"""The provider interface: what tokenbudget asks of every provider.

A provider knows, for its hosts and paths, which endpoint a request is, which
model it names, whether it streams, how to estimate its input tokens, and how to
read usage out of a JSON body or a sequence of SSE events. It implements the
core's :class:`~tokenbudget._core.EndpointHandler`: the exchange hands it a
neutral :class:`~tokenbudget._core.RequestView` and feeds decoded JSON documents
and SSE events to its :class:`~tokenbudget._core.UsageReader`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .._core import (
    REASONING_NOT_REPORTED,
    Endpoint,
    EventFilter,
    Observation,
    RequestView,
    UsageReader,
    warn_once,
)
from .._data import Usage
from ._reasoning import reasons
from ._tokens import count_output_tokens

__all__ = ["DEFER_LIMIT", "OUTPUT_LIMIT_KEYS", "Provider"]

#: The request fields that set an output ceiling in OpenAI-style and Anthropic bodies.
OUTPUT_LIMIT_KEYS = ("max_completion_tokens", "max_output_tokens", "max_tokens")

#: Characters of raw SSE data a reader may hold unparsed per stream. Readers put off
#: parsing chunks whose text matters only if the stream's usage never arrives; past
#: this much they parse instead of holding more, so memory stays bounded.
DEFER_LIMIT = 1 << 20

# Endpoint kinds whose answers hold no generated text (no reasoning to miss).
_NOT_GENERATING = frozenset(("embeddings", "count_tokens"))


class Provider(ABC):
    """One API family at a set of hosts (OpenAI-style, Anthropic, Gemini...)."""

    #: Provider name used when a request matches this provider.
    name: str = ""
    #: The name of the API it speaks, for messages (``"OpenAI"``, ``"Anthropic"``, ``"Gemini"``).
    api: str = ""

    @abstractmethod
    def match(self, request: RequestView) -> Endpoint | None:
        """The endpoint ``request`` is for, or ``None`` when this provider does not track it.

        Must be cheap: it runs for every request to this provider's hosts. It may
        read ``request.json`` only once the path is known to be tracked.
        """

    def prepare(self, endpoint: Endpoint, request: RequestView) -> bytes | None:
        """New request body to send instead of the original, or ``None`` to send it as is.

        Used to ask for usage the caller did not ask for (OpenAI ``stream_options``), so
        it is asked for streamed requests only (and for requests a budget rewrites).
        A provider that changes the request must hide the effect from the caller
        through :meth:`event_filter`.
        """
        return None

    def cacheable(self, endpoint: Endpoint, request: RequestView) -> bool:
        """False when the answer to ``request`` must never be replayed from a cache
        (it is not the call's result, e.g. a queued status). Asked only of caching trackers."""
        return True

    def event_filter(self, endpoint: Endpoint) -> EventFilter | None:
        """A filter for the SSE events the caller sees, when :meth:`prepare` needs one."""
        return None

    @abstractmethod
    def reader(self, endpoint: Endpoint) -> UsageReader:
        """A fresh reader for the response to ``endpoint``."""

    def estimate_input_tokens(self, endpoint: Endpoint, request: RequestView) -> int:
        """Input tokens the request will be billed for, counted locally (pre-flight)."""
        return 0

    def max_output_tokens(self, endpoint: Endpoint, request: RequestView) -> int | None:
        """The output ceiling the request sets (``max_tokens`` and the like), if any."""
        return None

    def max_output_fields(
        self, endpoint: Endpoint, request: RequestView, value: int
    ) -> dict[str, Any]:
        """The top-level body fields that set the request's output ceiling to ``value``.

        Used by budgets that clamp a request. Keeps the field the request already
        uses; otherwise :meth:`output_limit_field`.
        """
        body = request.json
        if not isinstance(body, Mapping):
            return {}
        for key in OUTPUT_LIMIT_KEYS:
            if isinstance(body.get(key), int):
                return {key: value}
        return {self.output_limit_field(endpoint): value}

    def output_limit_field(self, endpoint: Endpoint) -> str:
        """The body field that sets an output ceiling, for a request that sets none."""
        return "max_tokens"

    def estimate_usage(
        self, endpoint: Endpoint, request: RequestView, observation: Observation
    ) -> Usage:
        """Usage counted locally when the response's own report is missing or cut short.

        Keeps whatever the provider did report (a partial report from a stream
        that ended early) and counts the rest: input from the request, output
        from the text seen. The result is marked estimated. A reasoning model's
        hidden tokens cannot be counted: without a report its estimate says so
        (``REASONING_NOT_REPORTED``) and a warning is logged once per model.
        """
        model = observation.model or endpoint.request_model
        counted_output = count_output_tokens(observation.output_text, model)
        reported = observation.usage
        if reported is None:
            return Usage(
                input_tokens=self.estimate_input_tokens(endpoint, request),
                output_tokens=counted_output,
                estimated=True,
                estimate_reason=self._unreported_reasoning(endpoint, request, model),
            )
        return replace(
            reported,
            input_tokens=reported.input_tokens or self.estimate_input_tokens(endpoint, request),
            output_tokens=max(reported.output_tokens, counted_output),
            estimated=True,
        )

    def _unreported_reasoning(
        self, endpoint: Endpoint, request: RequestView, model: str | None
    ) -> str | None:
        """The reason of an estimate that misses reasoning tokens (warned once per model)."""
        if endpoint.kind in _NOT_GENERATING or not reasons(model, request.json):
            return None
        warn_once(
            f"reasoning-not-reported:{endpoint.provider}:{model}",
            "tokenbudget: %s %s reported no usage; its reasoning tokens cannot be counted, so "
            "the recorded output (from the visible text) is too low. Let the host report usage "
            "(OpenAI: stream_options.include_usage)",
            endpoint.provider,
            model,
        )
        return REASONING_NOT_REPORTED
