"""An event stream's events, handed to the provider's reader and its event filter.

:class:`FilteredStream` is the event-stream half of a
:class:`~._observer.ResponseObserver`: the observer decodes each chunk and its
SSE decoder cuts the events; here each event goes to the provider's reader and,
where the provider hides events of tokenbudget's own making, through its filter.
The caller then gets what the filter returns, event by event. Two things make
that more than a join:

- An event may be dispatched at the "\\r" of a "\\r\\n": the "\\n" then begins
  the next event's raw bytes (or the tail after the last event), and must go
  where the event it ends went, shown or hidden.
- An event over the SSE decoder's bound, or a failure of the decoder itself,
  stops the reading but not the filter: the events completed before it are still
  read and passed on, then the bytes that could not be read as they are, and a
  fresh decoder goes on filtering the rest. Nothing already decoded is held back
  or dropped, and a usage chunk that tokenbudget asked for still never reaches
  the caller.
"""

from __future__ import annotations

from ._endpoint import EventFilter, UsageReader
from ._sse import ServerSentEvent, SSEDecoder, SSEError

__all__ = ["FilteredStream"]


class FilteredStream:
    """The filtered-stream bookkeeping of a :class:`~._observer.ResponseObserver`.

    A base class, not a part the observer holds: its per-chunk path calls these
    methods on itself, with no object in between. The observer's ``__init__``
    sets these slots with its own (one ``__init__`` per call, no chained one).
    """

    __slots__ = ("_after_cr", "_cr_hidden", "_filter", "_gave_up", "_sse")

    # The observer's, read here: the provider's reader, and whether reading failed.
    _reader: UsageReader | None
    _broken: bool
    _filter: EventFilter | None
    _sse: SSEDecoder | None
    # The last filtered event ended in "\r" (a "\n" right after it is its other
    # half), and whether it was hidden.
    _after_cr: bool
    _cr_hidden: bool
    _gave_up: bool  # the SSE decoder met an event over its bound

    def _fail(self, where: str) -> None:
        """Our own failure: stop reading (the observer's, which logs it)."""
        raise NotImplementedError

    def _on_events(self, events: list[ServerSentEvent]) -> bytes:
        """Hand each event to the reader and, with a filter, return what the caller gets."""
        reader = self._reader
        assert reader is not None
        event_filter = self._filter
        out = b""
        for event in events:
            if not self._broken:
                try:
                    reader.on_event(event)
                except Exception:
                    self._fail("stream event")
            if event_filter is not None:
                try:
                    piece = event_filter(event)
                except Exception:
                    self._fail("event filter")
                    piece = event.raw
                raw = event.raw
                if self._after_cr or (raw and raw[-1] == 13):  # rare: "\r" at an event's edge
                    piece = self._at_cr(raw, piece)
                out += piece
        return out

    def _at_cr(self, raw: bytes, piece: bytes) -> bytes:
        """``piece`` (the filter's output for ``raw``) with a "\\n" split from its "\\r".

        An event dispatched at the "\\r" of a "\\r\\n" leaves the "\\n" to the next
        event's raw bytes: it must go where the event it ends went (shown or hidden).
        """
        hidden = not piece
        if self._after_cr and raw[:1] == b"\n":
            if self._cr_hidden:
                piece = piece[1:] if piece[:1] == b"\n" else piece
            elif hidden:
                piece = b"\n"
        self._after_cr = raw[-1:] == b"\r"
        self._cr_hidden = hidden
        return piece

    def _after_hidden(self, rest: bytes) -> bytes:
        """``rest`` (bytes after the last event) without the "\\n" of a hidden event's "\\r"."""
        if self._after_cr:
            self._after_cr = False
            if self._cr_hidden and rest[:1] == b"\n":
                return rest[1:]
        return rest

    def _unreadable(self, chunk: bytes, error: Exception) -> bytes:
        """The SSE decoder gave up (an event over its bound): stop reading, drop nothing.

        The events completed before the failure are still read and, with a
        filter, passed on, followed by the oversized event's bytes as they are.
        Reading stops; a filter goes on over the rest with a fresh decoder, so a
        usage chunk that tokenbudget asked for still never reaches the caller.
        """
        if not isinstance(error, SSEError):  # not a limit: a bug of ours
            self._fail("stream")
            if self._filter is None:
                return chunk
            pending = self._sse.take_pending()  # type: ignore[union-attr]
            self._sse = SSEDecoder(keep_raw=True)
            return self._after_hidden(pending)
        out = self._on_events(error.events) if error.events else b""
        self._fail("oversized event")
        self._gave_up = True
        if self._filter is None:
            return chunk
        while True:
            out += self._after_hidden(error.rest)
            self._sse = SSEDecoder(keep_raw=True)
            try:
                return out + self._on_events(self._sse.feed(error.unread))
            except SSEError as again:  # the rest holds another oversized event
                out += self._on_events(again.events)
                error = again
