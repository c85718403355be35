"""Incremental server-sent events decoder (WHATWG event-stream rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

__all__ = [
    "MAX_EVENT_BYTES",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
    "split_events",
    "usual_event_data",
]

#: The default bound on one event's bytes (see :class:`SSEDecoder`).
MAX_EVENT_BYTES = 16 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"
_CR = 0x0D
_LF = 0x0A
_COLON = 0x3A


def usual_event_data(chunk: bytes) -> bytes | None:
    """The data of ``chunk`` when it is the usual SSE chunk, else ``None``.

    The usual chunk is exactly one ``data: `` line ended by ``\\n``, then its blank
    line, with no ``\\r``: fed to a decoder between events (``between_events``), it
    is one ``message`` event with that data (UTF-8, not decoded yet), and leaves
    the decoder as it was. The size bound on an event is the caller's to check.
    """
    # Cut with one-argument methods and int membership: on CPython 3.11 a bytes
    # find/startswith/endswith parses its arguments anew on each call (and a bytes
    # "in" first tries its operand as an int, raising and clearing an error).
    line, _, rest = chunk.partition(b"\n")
    data = line.removeprefix(b"data: ")
    if rest == b"\n" and len(line) - 6 == len(data) and _CR not in data:
        return data
    return None


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    raw: bytes = b""
    """The exact bytes this event was decoded from (only when the decoder keeps them)."""


class SSEError(ValueError):
    """The event stream exceeded the decoder's limits.

    Raised by :meth:`SSEDecoder.feed` and :meth:`SSEDecoder.flush`, it carries
    what that call had decoded before the limit, so that nothing is lost:
    :attr:`events`, the events it completed; :attr:`rest`, the bytes retained
    for the event that grew too large, up to and including its line that broke
    the bound (with ``keep_raw``); :attr:`unread`, the rest of the chunk, not
    decoded yet. ``events``' raw bytes, ``rest`` and ``unread`` make up every byte
    fed and not returned before.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.events: list[ServerSentEvent] = []
        self.rest = b""
        self.unread = b""


class SSEDecoder:
    """Push parser for a ``text/event-stream`` body.

    Feed it the body bytes in chunks of any size with :meth:`feed` and call
    :meth:`flush` once at the end of the stream. It does no I/O, so the same
    decoder serves sync and async code.

    Decoding follows the WHATWG "event stream interpretation" rules: lines end
    in ``\\r\\n``, ``\\n`` or ``\\r``; a leading UTF-8 BOM is skipped; each line
    is decoded as UTF-8 with invalid bytes replaced; a blank line dispatches
    the pending event if it has data. Each event's ``id`` is the last event ID
    seen so far in the stream (``None`` if there was none), and its ``retry`` is
    the value of a valid ``retry`` field inside that event, if any.

    A line ending in ``\\r`` is complete at once, whether or not a ``\\n``
    follows: its event is dispatched without waiting for the next bytes (a
    client may stop reading at the end marker), and a ``\\n`` that comes next
    is taken as the other half of that ``\\r\\n``.

    ``max_event_bytes`` bounds memory on a hostile stream: :class:`SSEError` is
    raised when the bytes of the event being accumulated (its lines, including
    comments, since the previous blank line), or one unterminated line,
    exceed it. With ``keep_raw`` all bytes since the previous dispatched event
    are retained, so they are all counted. After an :class:`SSEError` the
    decoder must not be used again.

    With ``keep_raw=True`` each event's ``raw`` holds exactly the bytes consumed
    since the previous event, up to and including the terminator of the blank
    line that dispatched it, so the concatenation of every event's ``raw`` and
    the final :meth:`take_tail` reproduces the input byte for byte.
    """

    def __init__(self, *, max_event_bytes: int = MAX_EVENT_BYTES, keep_raw: bool = False) -> None:
        if max_event_bytes < 1:
            raise ValueError("max_event_bytes must be positive")
        self._max_event_bytes = max_event_bytes
        self._keep_raw = keep_raw
        # Unterminated line, or a complete line whose final "\r" may be half of "\r\n".
        self._buffer = bytearray()
        self._raw = bytearray()
        self._size = 0
        self._at_start = True
        self._event = b""
        self._data: list[bytes] = []
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Push the next bytes of the stream and return the events they complete.

        Raises :class:`SSEError` (carrying what this call decoded) past the size bound.
        """
        if (
            len(chunk) <= self._max_event_bytes
            and self._retry is None
            and self.between_events()
            and (value := usual_event_data(chunk)) is not None
        ):
            # The usual chunk, with the decoder between events: decoded at once, as the
            # general path would.
            raw = chunk if self._keep_raw else b""
            return [
                ServerSentEvent(
                    "message", value.decode("utf-8", "replace"), self._last_id, None, raw
                )
            ]
        events: list[ServerSentEvent] = []
        buffer = self._buffer
        if buffer and buffer[-1] == _CR and chunk:
            # The last line ended in "\r" and was processed: a "\n" now is its other half.
            buffer.clear()
            if chunk[0] == _LF:
                chunk = chunk[1:]
                if self._keep_raw:
                    self._raw.append(_LF)
                    self._size += 1

        # bytes.splitlines() splits on exactly "\r\n", "\n" and "\r", like the spec.
        lines = chunk.splitlines(keepends=True)
        if not lines:
            return events
        last = lines[-1]
        if last[-1] == _LF:
            last = b""
        elif last[-1] == _CR:
            last = b"\r"  # the line is complete; this marker waits for a possible "\n"
        else:
            lines.pop()  # an unterminated line: kept until its end comes
        if buffer and lines:
            buffer += lines[0]
            lines[0] = bytes(buffer)
            buffer.clear()
        buffer += last
        remaining = iter(lines)
        try:
            for line in remaining:
                self._process_line(line, events)
        except SSEError as error:
            error.events = events
            error.rest = bytes(self._raw)
            error.unread = b"".join(remaining) + (b"" if last == b"\r" else bytes(buffer))
            raise
        if last != b"\r" and self._size + len(buffer) > self._max_event_bytes:
            try:
                self._too_large(self._size + len(buffer))
            except SSEError as error:
                error.events = events
                error.rest = bytes(self._raw) + bytes(buffer)  # the line too long is its own
                raise
        return events

    def flush(self) -> list[ServerSentEvent]:
        """Signal the end of the stream and return the events it completes.

        A final unterminated line is processed as if it were terminated. Then,
        as a deliberate leniency beyond the spec (which discards an event that
        is not followed by a blank line), a pending event with data is
        dispatched: a provider's last event, such as a usage report, still
        counts when the stream ends without the final blank line.
        """
        events: list[ServerSentEvent] = []
        try:
            if self._buffer:
                line = bytes(self._buffer)
                self._buffer.clear()
                if line != b"\r":  # not the marker of a line processed already
                    self._process_line(line, events)
        except SSEError as error:
            error.events = events
            error.rest = bytes(self._raw)
            raise
        if self._data:
            self._dispatch(events)
        return events

    def between_events(self) -> bool:
        """True when nothing is held: the next byte begins a new event, past the stream's start.

        The usual chunk (:func:`usual_event_data`) fed now is one event with that
        data, the last event ID, no retry and the chunk as its raw bytes, and leaves
        the decoder as it was: the observer reads such chunks without feeding them here.
        """
        return not (
            self._buffer or self._raw or self._data or self._event or self._size or self._at_start
        )

    def no_bom(self) -> None:
        """Say that the stream does not start with a BOM (its first bytes are known, and
        are not one), before any byte is fed: the decoder is then between events at once.
        """
        self._at_start = False

    def take_tail(self) -> bytes:
        """Return and forget the raw bytes consumed but not part of any event's ``raw``.

        These are the comments, blank lines and incomplete event lines read
        since the last dispatched event; after :meth:`flush` this is the rest
        of the stream. An unterminated line still waiting for its end is not
        consumed yet and is not included. Always ``b""`` unless ``keep_raw``.
        """
        tail = bytes(self._raw)
        self._raw.clear()
        return tail

    def take_pending(self) -> bytes:
        """Return every byte fed but in no returned event's ``raw``: the tail and an
        unterminated line. For a stream abandoned half-way; the decoder is not used again."""
        pending = b"" if self._buffer[-1:] == b"\r" else bytes(self._buffer)
        self._buffer.clear()
        return self.take_tail() + pending

    def _process_line(self, line: bytes, events: list[ServerSentEvent]) -> None:
        if self._keep_raw:
            self._raw += line
        if self._at_start:
            self._at_start = False
            line = line.removeprefix(_BOM)
        # The line holds at most one terminator, and nothing else can be CR/LF.
        body = line.rstrip(b"\r\n")

        if not body:
            if self._data:
                self._dispatch(events)
                return
            self._event = b""
            self._retry = None
            if not self._keep_raw:
                self._size = 0
                return
            # Nothing dispatched, but keep_raw retains the line, so it counts.

        self._size += len(line)
        if self._size > self._max_event_bytes:
            self._too_large(self._size)
        if not body or body[0] == _COLON:
            return

        # Splitting on ASCII bytes before decoding gives the same text as
        # decoding whole lines: an invalid UTF-8 sequence never swallows ASCII.
        name, _, value = body.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value
        elif name == b"id" and 0 not in value:  # (the NUL byte, as an int: see feed)
            self._last_id = value.decode("utf-8", "replace")
        # bytes.isdigit() accepts ASCII digits only, as the spec requires.
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)

    def _dispatch(self, events: list[ServerSentEvent]) -> None:
        events.append(
            ServerSentEvent(
                event=self._event.decode("utf-8", "replace") or "message",
                data=b"\n".join(self._data).decode("utf-8", "replace"),
                id=self._last_id,
                retry=self._retry,
                raw=bytes(self._raw),
            )
        )
        self._raw.clear()
        self._event = b""
        self._data.clear()
        self._retry = None
        self._size = 0

    def _too_large(self, size: int) -> NoReturn:
        raise SSEError(
            f"server-sent event exceeds max_event_bytes={self._max_event_bytes}: "
            f"{size} bytes accumulated without a dispatching blank line"
        )


def split_events(body: bytes) -> list[bytes]:
    """An SSE body cut after each event, as a server would send it (cache replays)."""
    decoder = SSEDecoder(keep_raw=True)
    chunks = [event.raw for event in decoder.feed(body)]
    chunks.extend(event.raw for event in decoder.flush())
    tail = decoder.take_tail()
    if tail:
        chunks.append(tail)
    return chunks
