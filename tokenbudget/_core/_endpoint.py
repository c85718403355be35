"""What a provider says a request is, and what it learns from the answer.

A provider (``tokenbudget.providers``) matches a :class:`~._request.RequestView`
to an :class:`Endpoint`, and reads the response with a :class:`UsageReader`
that fills an :class:`Observation`. The exchange drives both through the
:class:`EndpointHandler` interface below; budgets and the cache ask the same
handler what they need to know about a request (its estimate, its output
ceiling, whether its answer may be replayed). No provider's wire knowledge is
here: only the shapes they share.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ._sse import ServerSentEvent

if TYPE_CHECKING:
    from .._data import Usage
    from ._request import RequestView

__all__ = [
    "DataFilter",
    "Endpoint",
    "EndpointHandler",
    "EventFilter",
    "Observation",
    "OutputText",
    "UsageReader",
]

#: Rewrites one SSE event before the caller sees it: returns the bytes to pass on
#: (``event.raw`` unchanged, edited bytes, or ``b""`` to drop the event).
EventFilter = Callable[[ServerSentEvent], bytes]


class DataFilter:
    """An :data:`EventFilter` that needs only an event's raw bytes and its data bytes.

    ``filter_data(raw, data)`` returns what the caller gets for the event whose
    exact bytes are ``raw`` and whose ``data`` field is ``data`` (UTF-8, not
    decoded: invalid bytes may be in it). The observer calls it directly for the
    usual chunk, one ``data:`` line and its blank line, with no event object made;
    other events come through :meth:`__call__`.
    """

    __slots__ = ("filter_data",)

    def __init__(self, filter_data: Callable[[bytes, bytes], bytes]) -> None:
        self.filter_data = filter_data

    def __call__(self, event: ServerSentEvent) -> bytes:
        return self.filter_data(event.raw, event.data.encode("utf-8", "surrogatepass"))


class EndpointHandler(Protocol):
    """What the rest of tokenbudget asks of the provider that matched a request.

    ``tokenbudget.providers.Provider`` implements it, with defaults for all but
    :meth:`reader`.
    """

    name: str

    def prepare(self, endpoint: Endpoint, request: RequestView) -> bytes | None:
        """A new request body to send (usage asked for), or ``None`` to send it as is."""

    def event_filter(self, endpoint: Endpoint) -> EventFilter | None:
        """A filter hiding from the caller what :meth:`prepare` changed in the stream."""

    def reader(self, endpoint: Endpoint) -> UsageReader:
        """A fresh reader for the response to ``endpoint``."""

    def estimate_usage(
        self, endpoint: Endpoint, request: RequestView, observation: Observation
    ) -> Usage:
        """Usage counted locally when the answer's own report is missing or cut short."""

    def cacheable(self, endpoint: Endpoint, request: RequestView) -> bool:
        """False when the answer must never be replayed (not the call's result)."""

    def estimate_input_tokens(self, endpoint: Endpoint, request: RequestView) -> int:
        """Input tokens the request will be billed for, counted before sending."""

    def max_output_tokens(self, endpoint: Endpoint, request: RequestView) -> int | None:
        """The output ceiling the request sets, if any."""

    def max_output_fields(
        self, endpoint: Endpoint, request: RequestView, value: int
    ) -> dict[str, Any]:
        """The top-level body fields that set the request's output ceiling to ``value``."""


@dataclass(slots=True)
class Endpoint:
    """What a matched request is: the answer of a provider's ``match``."""

    provider: str
    """Provider name recorded on the call (``"openai"``, ``"azure"``, ``"groq"``...)."""
    kind: str
    """API kind: ``chat``, ``responses``, ``completions``, ``embeddings``, ``messages``..."""
    handler: EndpointHandler
    """The provider object that reads this endpoint's responses."""
    request_model: str | None = None
    stream: bool = False
    billable: bool = True
    """False for free endpoints (token counting): recorded with zero usage and cost."""
    host: str = ""
    service_tier: str | None = None
    """Service tier asked for in the request; the response's tier wins when given."""
    batch: bool = False
    usage_injected: bool = False
    """Set by the provider's ``prepare`` when it asked for usage the caller did not:
    its event filter then hides the extra from the caller."""
    model_label: str | None = None
    """When set, the record's model is ``"{model_label}/{model}"`` (a host that is
    not a known provider, so that calls to different hosts stay apart)."""
    via: str | None = None
    """The ``host:port`` that answered when it is not ``provider``'s own API (a
    gateway, a proxy, a local server); the tracker then decides the provider
    from the model name. Kept on the record as ``CallRecord.via``."""
    watch_output: bool = False
    """Set by budgets that may cut this stream off (``stop_streams``): the reader
    must keep ``observation.output_text`` current as events arrive."""
    output_live: bool = False
    """Set by a reader that honours :attr:`watch_output`. Streams whose reader
    does not are never cut: the output would only be known at the end."""


class OutputText:
    """Text a response produced, kept for counting in bounded memory.

    Only needed when a response's usage report is missing or cut short. The
    first ``limit`` characters are kept as :attr:`pieces`; beyond that only
    their number is (:attr:`overflow`), so a stream of any length is observed
    in flat memory. ``tokenbudget.providers.count_output_tokens`` counts it.
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

    @property
    def pieces(self) -> Sequence[str]:
        """The kept pieces, in order; new ones are appended (read, do not change)."""
        return self._parts

    @property
    def overflow(self) -> int:
        """Characters seen past the kept ``limit``, counted but not kept."""
        return self._overflow

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __bool__(self) -> bool:
        return bool(self._kept or self._overflow)


@dataclass(slots=True, init=False)
class Observation:
    """What a :class:`UsageReader` learnt from a response."""

    usage: Usage | None
    """Usage as reported by the provider; ``None`` when the response had none."""
    model: str | None
    """The model the response says was billed."""
    response_id: str | None
    service_tier: str | None
    raw_usage: Any
    """The provider's own usage object(s), JSON-able, kept for repricing."""
    _text: OutputText | None = field(repr=False, compare=False)
    error: str | None
    """An error the provider reported inside a successful response (e.g. an SSE error event)."""
    complete: bool
    """True once the provider's end-of-response marker was seen."""
    final: bool
    """True once the provider's last content event was seen (OpenAI's ``finish_reason``,
    Anthropic's ``message_delta``): only its usage report and end marker may follow.
    A caller closing the stream then is waited for briefly, so that they can arrive."""

    def __init__(
        self,
        usage: Usage | None = None,
        model: str | None = None,
        response_id: str | None = None,
        service_tier: str | None = None,
        raw_usage: Any = None,
        output_text: OutputText | None = None,
        error: str | None = None,
        complete: bool = False,
        final: bool = False,
    ) -> None:
        self.usage = usage
        self.model = model
        self.response_id = response_id
        self.service_tier = service_tier
        self.raw_usage = raw_usage
        # Made on first use: a JSON answer with its usage never needs one.
        self._text = output_text
        self.error = error
        self.complete = complete
        self.final = final

    @property
    def output_text(self) -> OutputText:
        """Text the model produced, kept only while usage is still unknown (estimation)."""
        text = self._text
        if text is None:
            text = self._text = OutputText()
        return text

    @output_text.setter
    def output_text(self, text: OutputText) -> None:
        self._text = text

    def forget_output_text(self) -> None:
        """Drop the text kept so far (usage was reported: no estimate will be needed)."""
        if self._text is not None:
            self._text.clear()


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

    @classmethod
    def reads_document(cls) -> bool:
        """True when :meth:`on_body` reads just what ``on_json(json.loads(body))`` reads.

        The observer may then parse a body itself, once for tokenbudget and the
        caller, and hand the document to :meth:`on_json`. True for a reader that
        keeps the default :meth:`on_body`; one that overrides it says so itself.
        """
        return cls.on_body is _READ_AS_DOCUMENT

    def on_json(self, document: Any) -> None:
        """Read a complete JSON response body (or one element of a JSON-array stream)."""

    def on_event(self, event: ServerSentEvent) -> None:
        """Read one server-sent event."""

    def on_data(self, data: bytes) -> None:
        """Read one unnamed event (``message``) from its data bytes, not decoded yet.

        The observer calls it, with no event object made, for the usual stream
        chunk (one ``data:`` line and its blank line) of readers that override it;
        it must then read the data exactly as :meth:`on_event` reads that event
        (its data is these bytes decoded as UTF-8 with invalid bytes replaced).
        By default the event is built and given to :meth:`on_event`.
        """
        self.on_event(ServerSentEvent("message", data.decode("utf-8", "replace")))

    def catch_up(self) -> None:
        """Read what was put off that an event's arrival would have read (by default: nothing).

        The observer calls it when the response ends, before :meth:`result`, unless
        the reading broke already. Raising here is a failure to read the stream (the
        call is recorded as estimated from what was read), as it would have been on
        the event's arrival.
        """

    def result(self) -> Observation:
        """What was observed; called once when the response ends."""
        return self.observation


#: The default :meth:`UsageReader.on_body` (as defined: one patched over it reads otherwise).
_READ_AS_DOCUMENT = UsageReader.on_body
