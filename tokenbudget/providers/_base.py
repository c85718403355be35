"""The provider interface: what the transport asks of every provider module.

A provider knows, for its hosts and paths, which endpoint a request is, which
model it names, whether it streams, how to estimate its input tokens, and how to
read usage out of a JSON body or a sequence of SSE events. Nothing here imports
an HTTP library: the transport hands over a neutral :class:`RequestView` and
feeds decoded JSON documents and SSE events to a :class:`UsageReader`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .._data import Usage
from .._json_bytes import loads
from .._sse import ServerSentEvent

__all__ = [
    "Endpoint",
    "EventFilter",
    "Observation",
    "OutputText",
    "Provider",
    "RequestView",
    "UsageReader",
]

#: Rewrites one SSE event before the caller sees it: returns the bytes to pass on
#: (``event.raw`` unchanged, edited bytes, or ``b""`` to drop the event).
EventFilter = Callable[[ServerSentEvent], bytes]

_UNSET: Any = object()


class RequestView:
    """A neutral, read-only view of an outgoing HTTP request.

    ``host`` is lower-case without the port; ``headers`` has lower-case names.
    The body is read, and parsed as JSON, at most once and only when asked for,
    so requests that match no endpoint are never buffered.
    """

    __slots__ = (
        "_body",
        "_json",
        "_load_body",
        "headers",
        "host",
        "method",
        "path",
        "port",
        "query",
    )

    def __init__(
        self,
        method: str,
        host: str,
        path: str,
        *,
        port: int | None = None,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        load_body: Callable[[], bytes] | None = None,
    ) -> None:
        self.method = method.upper()
        self.host = host.lower()
        self.port = port
        self.path = path
        self.query = query
        self.headers: Mapping[str, str] = headers or {}
        self._body = body
        self._load_body = load_body
        self._json: Any = _UNSET

    @property
    def body(self) -> bytes:
        """The request body; read from the request on first use (matching usually needs none)."""
        if self._body is None:
            self._body = self._load_body() if self._load_body is not None else b""
        return self._body

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is empty or not JSON."""
        if self._json is _UNSET:
            body = self.body
            try:
                self._json = loads(body) if body else None
            except ValueError:
                self._json = None
        return self._json

    @property
    def host_port(self) -> str:
        """``host:port`` when a port was given, else ``host``."""
        return f"{self.host}:{self.port}" if self.port else self.host

    def __repr__(self) -> str:
        return f"<RequestView {self.method} {self.host_port}{self.path}>"


@dataclass(slots=True)
class Endpoint:
    """What a matched request is: the answer of :meth:`Provider.match`."""

    provider: str
    """Provider name recorded on the call (``"openai"``, ``"azure"``, ``"groq"``...)."""
    kind: str
    """API kind: ``chat``, ``responses``, ``completions``, ``embeddings``, ``messages``..."""
    handler: Provider
    """The provider object that reads this endpoint's responses."""
    request_model: str | None = None
    stream: bool = False
    billable: bool = True
    """False for free endpoints (token counting): recorded with zero usage and cost."""
    host: str = ""
    service_tier: str | None = None
    """Service tier asked for in the request; the response's tier wins when given."""
    batch: bool = False
    state: dict[str, Any] = field(default_factory=dict)
    """Scratch space for the provider between ``prepare`` and ``reader``.

    Budgets set ``state["watch_output"]`` when they may cut a stream off
    (``stop_streams``); a reader that honours it keeps
    ``observation.output_text`` current as events arrive (no deferred parsing)
    and acknowledges with ``state["output_live"] = True``. Streams whose reader
    does not acknowledge are never cut.
    """


class OutputText:
    """Text a response produced, kept for counting in bounded memory.

    Only needed when a response's usage report is missing or cut short. The first
    ``limit`` characters are kept; beyond that only the length is, and the count
    is extrapolated from the kept text's tokens per character, so a stream of
    any length is observed in flat memory.
    """

    __slots__ = ("_kept", "_overflow", "_parts", "limit")

    def __init__(self, limit: int = 1 << 20) -> None:
        self._parts: list[str] = []
        self._kept = 0
        self._overflow = 0
        self.limit = limit

    def append(self, text: str) -> None:
        """Add a piece of output text."""
        if self._kept < self.limit:
            self._parts.append(text)
            self._kept += len(text)
        else:
            self._overflow += len(text)

    def extend(self, texts: Iterable[str]) -> None:
        """Add several pieces of output text."""
        for text in texts:
            self.append(text)

    def clear(self) -> None:
        """Forget the text (usage was reported: no estimate will be needed)."""
        self._parts.clear()
        self._kept = self._overflow = 0

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __bool__(self) -> bool:
        return bool(self._kept or self._overflow)

    def count_tokens(self, model: str | None) -> int:
        """Tokens of all the text seen (extrapolated past the kept part)."""
        from .._tokens import count_text_tokens

        kept = "".join(self._parts)
        tokens, _ = count_text_tokens(kept, model)
        if self._overflow and kept:
            tokens += round(self._overflow * tokens / len(kept))
        elif self._overflow:
            tokens += -(-self._overflow // 4)
        return tokens


@dataclass(slots=True)
class Observation:
    """What a :class:`UsageReader` learnt from a response."""

    usage: Usage | None = None
    """Usage as reported by the provider; ``None`` when the response had none."""
    model: str | None = None
    """The model the response says was billed."""
    response_id: str | None = None
    service_tier: str | None = None
    raw_usage: Any = None
    """The provider's own usage object(s), JSON-able, kept for repricing."""
    output_text: OutputText = field(default_factory=OutputText)
    """Text the model produced, kept only while usage is still unknown (estimation)."""
    error: str | None = None
    """An error the provider reported inside a successful response (e.g. an SSE error event)."""
    complete: bool = False
    """True once the provider's end-of-response marker was seen."""


class UsageReader:
    """Accumulates what one response says; created per exchange by a provider."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.observation = Observation()

    def on_body(self, body: bytes) -> None:
        """Read a complete, decoded non-streamed body; by default parsed and given to on_json.

        A provider may override it to read only what it needs from the bytes.
        """
        self.on_json(json.loads(body))

    def on_json(self, document: Any) -> None:
        """Read a complete JSON response body (or one element of a JSON-array stream)."""

    def on_event(self, event: ServerSentEvent) -> None:
        """Read one server-sent event."""

    def result(self) -> Observation:
        """What was observed; called once when the response ends."""
        return self.observation


class Provider(ABC):
    """One API family at a set of hosts (OpenAI-style, Anthropic, Gemini...)."""

    #: Provider name used when a request matches this provider.
    name: str = ""

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

    def estimate_usage(
        self, endpoint: Endpoint, request: RequestView, observation: Observation
    ) -> Usage:
        """Usage counted locally when the response's own report is missing or cut short.

        Keeps whatever the provider did report (a partial report from a stream
        that ended early) and counts the rest: input from the request, output
        from the text seen. The result is marked estimated.
        """
        model = observation.model or endpoint.request_model
        counted_output = observation.output_text.count_tokens(model)
        reported = observation.usage
        if reported is None:
            return Usage(
                input_tokens=self.estimate_input_tokens(endpoint, request),
                output_tokens=counted_output,
                estimated=True,
            )
        return replace(
            reported,
            input_tokens=reported.input_tokens or self.estimate_input_tokens(endpoint, request),
            output_tokens=max(reported.output_tokens, counted_output),
            estimated=True,
        )
