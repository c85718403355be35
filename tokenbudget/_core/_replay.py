"""A cache hit read once, when its answer was stored, instead of on every hit.

A hit replays stored bytes through the exchange, as if the provider sent them:
its caller gets what the event filter lets through, and the record is built
from what a reading of those bytes learns. Both are the same on every hit of
one stored answer, so :func:`rehearse` does that reading once, when the answer
is stored, exactly as a hit would (a fresh :class:`~._observer.ResponseObserver`
fed the stored events): the pieces the caller gets, and the
:class:`~._endpoint.Observation` the record is built from, are kept as a
:class:`Replay` with the answer. A hit then hands the pieces over untouched and
records the kept observation (``Exchange.replay_stored``): nothing is parsed.

Only an answer whose reading was whole and plain is kept this way: read
without failure, usage reported and valid, no error event. Any other answer is
replayed and read as before, on every hit.

A caller that stops before the last piece (an abandoned stream) is recorded as
before too: the :class:`ReplayReader` then reads the pieces that caller was
given through the general path (``Exchange.reread_replay``), and only them.
A kept observation holds what the provider's answer said (usage, model, ids),
never anything of the request: no secret.
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass, field
from operator import length_hint
from typing import TYPE_CHECKING, Any

from ._endpoint import Endpoint, Observation, UsageReader
from ._headers import header_bytes
from ._observer import ResponseObserver
from ._sse import split_events

if TYPE_CHECKING:
    from ._exchange import Exchange
    from ._ports import StoredResponse

__all__ = [
    "BODY_HEADERS",
    "Replay",
    "ReplayReader",
    "rehearse",
    "replay_headers",
    "replay_pieces",
    "start_replay",
]

#: Headers that describe the bytes on the wire, not a stored (decoded) body.
BODY_HEADERS = frozenset(("content-encoding", "content-length", "transfer-encoding"))


@dataclass(frozen=True, slots=True, eq=False)
class Replay:
    """What every hit of one stored answer needs, read once when it was stored."""

    status_code: int
    headers: tuple[tuple[str, str], ...]
    """The head the caller gets (text, as ``StoredResponse.headers``)."""
    head: tuple[tuple[bytes, bytes], ...]
    """:attr:`headers` as the bytes sent (``header_bytes``)."""
    raw: tuple[bytes, ...]
    """The stored body as a hit reads it: cut after each event (SSE), or whole."""
    events: tuple[bytes, ...]
    """What the caller gets, piece by piece (the event filter applied)."""
    read: tuple[int, ...]
    """How many of :attr:`raw` were read once the caller had ``events[: i + 1]``;
    ``len(raw) + 1``: all, and the body's end (a piece the end let through)."""
    observation: Observation
    """What the reading learnt (its output text left out: never needed)."""
    request_id: str | None
    usage_injected: bool
    """The stored request's ``Endpoint.usage_injected`` (the event filter's switch)."""
    recheck: bool
    """True when a hit's request may decide ``usage_injected`` otherwise (a cache key
    that leaves out body fields): the hit asks its provider, and is read as before
    when the answer differs."""
    timed: bool
    """True when a hit's first piece sets the record's time to first chunk (an event stream)."""
    document: bytes | None = None
    """The JSON document of a whole (not streamed) body, marshalled: a hit hands the
    caller a fresh copy of it (``marshal.loads``, under half the cost of a parse)."""
    forms: dict[Any, Any] = field(default_factory=dict)
    """What adapters made of this replay for its first hit, by HTTP library (e.g. its head
    as an ``httpx.Headers``), kept for the next hits: each hit copies, never changes them."""


def replay_headers(answer: StoredResponse) -> list[tuple[str, str]]:
    """The head of a replayed ``answer``: its stored headers, and the length of a JSON body."""
    headers = [(k, v) for k, v in answer.headers if k.lower() not in BODY_HEADERS]
    if not answer.stream:
        headers.append(("content-length", str(len(answer.body))))
    return headers


def start_replay(observer: ResponseObserver, answer: StoredResponse) -> list[tuple[str, str]]:
    """Start ``observer`` on a replay of ``answer`` (``start_response``); returns the head
    the caller gets: :func:`replay_headers` but for those the event filter drops."""
    headers = replay_headers(answer)
    drop = observer.start_response(answer.status_code, dict(headers))
    if drop:
        headers = [(k, v) for k, v in headers if k.lower() not in drop]
    return headers


def replay_pieces(answer: StoredResponse) -> tuple[bytes, ...]:
    """The pieces a replay of ``answer`` hands over: each event of an SSE body, or the body."""
    return tuple(split_events(answer.body)) if answer.stream else (answer.body,)


def rehearse(endpoint: Endpoint, answer: StoredResponse, recheck: bool = False) -> Replay | None:
    """Read ``answer`` once as a hit on ``endpoint`` would; ``None`` unless whole and plain.

    ``endpoint`` is the storing call's (its ``usage_injected`` decides the filter,
    as the identical request of a hit decides it again; ``recheck``: a hit's request
    may not be identical there, see :attr:`Replay.recheck`).
    """
    raw = answer.events or replay_pieces(answer)
    observer = ResponseObserver(endpoint)
    observer.share_json = True  # a JSON body is parsed whole: its document is kept
    headers = start_replay(observer, answer)
    events: list[bytes] = []
    read: list[int] = []
    for index, piece in enumerate(raw, 1):
        out = observer.feed(piece)
        if out:
            events.append(out)
            read.append(index)
    tail = observer.end_of_body()
    if tail:
        events.append(tail)
        read.append(len(raw) + 1)
    seen = observer.observe()
    usage = seen.usage
    if observer.broken or usage is None or usage.estimated or seen.error:
        return None
    if endpoint.stream and not seen.complete:
        return None
    shared = observer.take_shared_json()
    kept = Observation(
        usage=usage,
        model=seen.model,
        response_id=seen.response_id,
        service_tier=seen.service_tier,
        raw_usage=seen.raw_usage,
        complete=seen.complete,
        final=seen.final,
    )
    return Replay(
        status_code=answer.status_code,
        headers=tuple(headers),
        head=tuple(header_bytes(headers)),
        raw=raw,
        events=tuple(events),
        read=tuple(read),
        observation=kept,
        request_id=observer.request_id,
        usage_injected=endpoint.usage_injected,
        recheck=recheck and endpoint.stream,
        timed=observer.first_chunk_at is not None,
        document=_marshalled(shared[0]) if shared is not None else None,
    )


def _marshalled(document: Any) -> bytes | None:
    """``document`` (parsed JSON) as ``marshal`` writes it, or ``None`` if it cannot."""
    try:
        return marshal.dumps(document)
    except ValueError:
        return None


class ReplayReader(UsageReader):
    """A hit's reader: the kept observation once the caller got every piece.

    :attr:`pieces` is the iterator the replay hands the kept pieces over from:
    what is left in it says how far the caller got. A caller that stopped
    before the last piece is read as before (``Exchange.reread_replay``).
    """

    __slots__ = ("exchange", "pieces", "replay")

    def __init__(self, replay: Replay, exchange: Exchange) -> None:  # no UsageReader.__init__
        self.observation = replay.observation
        self.replay = replay
        self.exchange: Exchange | None = exchange
        self.pieces = iter(replay.events)

    def result(self) -> Observation:
        exchange, self.exchange = self.exchange, None  # (no cycle left behind)
        left = length_hint(self.pieces)
        if not left or exchange is None:
            return self.observation
        return exchange.reread_replay(self.replay, len(self.replay.events) - left)
