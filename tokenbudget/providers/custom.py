"""Custom providers: track an API tokenbudget does not know, from a few small functions.

One :class:`CustomProvider` serves two ways of tracking:

- **by hand** (the seed's API): ``provider.track(response)`` reads the model and
  token counts out of any response object with your functions and records the
  call on ``tracker``;
- **automatically**: registered for a host, it is a full
  :class:`~tokenbudget.providers.Provider`, so every request a tracked client
  sends there is recorded by the transport, sync or async, JSON or SSE. The
  functions then receive the decoded JSON body (a dict), or, for a stream, each
  SSE event's JSON data in turn (the last value found wins, so cumulative usage
  works; chunks where a function raises ``LookupError``/``TypeError``/
  ``AttributeError`` are skipped). The figures your functions return pass the
  providers' validation boundary (:class:`~tokenbudget.providers.UsageFigures`):
  one that is not an int from 0 to 1,000,000,000 is dropped, counted locally
  and the call recorded as estimated, with the reason.

Example: an in-house gateway at ``llm.acme.internal`` answering
``{"model": ..., "usage": {"in": 12, "out": 30}}``::

    from tokenbudget import TokenTracker
    from tokenbudget.providers.custom import CustomProvider

    tracker = TokenTracker()
    acme = CustomProvider(
        tracker=tracker,
        provider_name="acme",
        extract_model=lambda body: body["model"],
        extract_prompt_tokens=lambda body: body["usage"]["in"],
        extract_completion_tokens=lambda body: body["usage"]["out"],
        paths=["/v2/generate"],
    )
    acme.register("llm.acme.internal")  # this tracker; without a tracker: every tracker

    client = httpx.Client(transport=tracker.transport(family="httpx"))
    client.post("https://llm.acme.internal/v2/generate", json={"model": "acme-1", ...})
    tracker.usage_by_provider["acme"]  # the call, with its tokens

    acme.track(some_response_dict)  # or record one by hand

Costs come from the price book: ``register_model("acme", "acme-1", ...)`` or a
price file prices the ``acme`` provider's models. A provider whose usage needs
more than these functions (cache figures, per-chunk deltas) subclasses
:class:`~tokenbudget.providers.Provider` directly; see ``anthropic/``.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from .._core import Endpoint, RequestView, ServerSentEvent, UsageReader
from .._data import CallRecord, Usage
from ._base import Provider
from ._figures import UsageFigures
from ._registry import default_registry
from ._tokens import count_text_tokens


class TrackerLike(Protocol):
    """What a :class:`CustomProvider` asks of a ``TokenTracker``."""

    def track(
        self,
        model: str,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        provider: str | None = None,
        *,
        cached_input_tokens: int = 0,
        reasoning_tokens: int = 0,
        endpoint: str = "manual",
    ) -> CallRecord:
        """Record a call made without a tracked client."""

    def register_host(self, host: str, provider: str | Provider) -> None:
        """Track calls to ``host`` with ``provider``."""


__all__ = ["CustomProvider", "Extractor", "TrackerLike"]

#: Reads one figure out of a response (an object for ``track``, a JSON dict in the transport).
Extractor = Callable[[Any], Any]

_SKIPPED = (LookupError, TypeError, AttributeError)


class CustomProvider(Provider):
    """A provider described by functions that read a response's model and tokens.

    Args:
        tracker: the tracker ``track`` records on (and ``register`` registers
            with); optional for a provider only registered globally.
        provider_name: the provider name on the records (and for pricing).
        extract_model, extract_prompt_tokens, extract_completion_tokens: read the
            billed model, input tokens and output tokens from a response.
        extract_cached_input_tokens, extract_reasoning_tokens: optional, read the
            cached part of the input and the reasoning part of the output.
        paths: the request paths tracked on registered hosts, exact or with
            ``*`` wildcards; default: every path.
        extract_request_model: the model a request body names (default ``body["model"]``).
        is_stream: whether a request body asks for a stream (default ``body["stream"] is True``).
    """

    def __init__(
        self,
        tracker: TrackerLike | None = None,
        provider_name: str = "custom",
        extract_model: Extractor | None = None,
        extract_prompt_tokens: Extractor | None = None,
        extract_completion_tokens: Extractor | None = None,
        *,
        extract_cached_input_tokens: Extractor | None = None,
        extract_reasoning_tokens: Extractor | None = None,
        paths: Iterable[str] | None = None,
        extract_request_model: Extractor | None = None,
        is_stream: Callable[[Any], bool] | None = None,
    ) -> None:
        self.tracker = tracker
        self.name = provider_name
        self.extract_model = extract_model
        self.extract_prompt_tokens = extract_prompt_tokens
        self.extract_completion_tokens = extract_completion_tokens
        self.extract_cached_input_tokens = extract_cached_input_tokens
        self.extract_reasoning_tokens = extract_reasoning_tokens
        self.paths = list(paths) if paths is not None else None
        self.extract_request_model = extract_request_model
        self.is_stream = is_stream

    # -- by hand -----------------------------------------------------------------------

    def track(self, response: Any, *, tracker: TrackerLike | None = None) -> CallRecord:
        """Record ``response`` on the tracker; returns the call's record.

        Errors raised by the extract functions propagate: this is a call in your
        own code, with your functions.
        """
        target = tracker or self.tracker
        if target is None:
            raise ValueError("CustomProvider.track needs a tracker (tracker=...)")
        figures = self._figures(response)
        model = figures.pop("model")
        return target.track(
            str(model) if model is not None else "unknown",
            figures["prompt"],
            figures["completion"],
            self.name,
            cached_input_tokens=figures["cached"],
            reasoning_tokens=figures["reasoning"],
            endpoint="custom",
        )

    def _figures(self, response: Any) -> dict[str, Any]:
        def read(extract: Extractor | None) -> Any:
            return extract(response) if extract is not None else None

        return {
            "model": read(self.extract_model),
            "prompt": int(read(self.extract_prompt_tokens) or 0),
            "completion": int(read(self.extract_completion_tokens) or 0),
            "cached": int(read(self.extract_cached_input_tokens) or 0),
            "reasoning": int(read(self.extract_reasoning_tokens) or 0),
        }

    def register(
        self, *hosts: str, host_suffixes: Iterable[str] = (), tracker: TrackerLike | None = None
    ) -> CustomProvider:
        """Track ``hosts`` (``name`` or ``name:port``) with this provider, in the transport.

        With a tracker (given here or to the constructor) only that tracker's
        clients track them; without one, every tracker does. Host suffixes are
        global only.
        """
        target = tracker or self.tracker
        if target is not None and not host_suffixes:
            for host in hosts:
                target.register_host(host, self)
            return self
        default_registry.register(self, hosts=hosts, host_suffixes=host_suffixes)
        return self

    # -- in the transport ----------------------------------------------------------------

    def match(self, request: RequestView) -> Endpoint | None:
        if request.method != "POST":
            return None
        if self.paths is not None and not any(
            fnmatch.fnmatchcase(request.path, pattern) for pattern in self.paths
        ):
            return None
        body = request.json
        if self.extract_request_model is not None:
            model = _guarded(self.extract_request_model, body)
        else:
            model = body.get("model") if isinstance(body, Mapping) else None
        if self.is_stream is not None:
            stream = bool(_guarded(self.is_stream, body))
        else:
            stream = isinstance(body, Mapping) and body.get("stream") is True
        return Endpoint(
            provider=self.name,
            kind="custom",
            handler=self,
            request_model=str(model) if model is not None else None,
            stream=stream,
            host=request.host,
        )

    def reader(self, endpoint: Endpoint) -> UsageReader:
        return CustomReader(endpoint, self)

    def estimate_input_tokens(self, endpoint: Endpoint, request: RequestView) -> int:
        texts: list[str] = []
        _strings(request.json, texts)
        return sum(count_text_tokens(text, endpoint.request_model)[0] for text in texts)


class CustomReader(UsageReader):
    """Applies a :class:`CustomProvider`'s functions to a JSON body or to each SSE event."""

    def __init__(self, endpoint: Endpoint, provider: CustomProvider) -> None:
        super().__init__(endpoint)
        self._provider = provider
        self._figures: dict[str, Any] = {}

    def on_json(self, document: Any) -> None:
        self._take(document)
        self.observation.complete = True

    def on_event(self, event: ServerSentEvent) -> None:
        data = event.data
        if data.strip() == "[DONE]":
            self.observation.complete = True
            return
        if not data or data[0] not in "{[":
            return
        self._take(json.loads(data))

    def _take(self, document: Any) -> None:
        provider = self._provider
        for key, extract in (
            ("model", provider.extract_model),
            ("prompt", provider.extract_prompt_tokens),
            ("completion", provider.extract_completion_tokens),
            ("cached", provider.extract_cached_input_tokens),
            ("reasoning", provider.extract_reasoning_tokens),
        ):
            value = _guarded(extract, document) if extract is not None else None
            if value is not None:
                self._figures[key] = value
        figures, obs = self._figures, self.observation
        if figures.get("model") is not None:
            obs.model = str(figures["model"])
        if "prompt" in figures or "completion" in figures:
            checked = UsageFigures()  # the providers' validation boundary
            obs.usage = checked.usage(
                Usage(
                    input_tokens=checked.count(figures.get("prompt"), "prompt_tokens"),
                    output_tokens=checked.count(figures.get("completion"), "completion_tokens"),
                    cached_input_tokens=checked.count(figures.get("cached"), "cached_input_tokens"),
                    reasoning_tokens=checked.count(figures.get("reasoning"), "reasoning_tokens"),
                )
            )
            obs.raw_usage = {k: v for k, v in figures.items() if k != "model"}
            if "prompt" in figures and "completion" in figures:
                obs.complete = True


def _guarded(extract: Extractor, document: Any) -> Any:
    """``extract(document)``, or ``None`` when the document lacks what it looks for."""
    try:
        return extract(document)
    except _SKIPPED:
        return None


def _strings(value: Any, texts: list[str]) -> None:
    """Every string in a request body's ``messages``, ``prompt``, ``input`` or ``content``."""
    if isinstance(value, str):
        texts.append(value)
    elif isinstance(value, list):
        for item in value:
            _strings(item, texts)
    elif isinstance(value, Mapping):
        for key in ("messages", "prompt", "input", "content", "text", "system"):
            if key in value:
                _strings(value[key], texts)
