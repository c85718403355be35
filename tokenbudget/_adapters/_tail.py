"""Reading the last bytes of a stream its caller closed right after the content ended.

Callers often stop at the provider's final content event (OpenAI's
``finish_reason``, Anthropic's ``message_delta``) and close the stream: the
usage report that comes next would be cut off and the call recorded with an
estimate. When the exchange says only that report is still to come
(``Exchange.awaits_tail``), the closing stream first reads on, at most
:data:`TAIL_BYTES` bytes for at most :data:`TAIL_SECONDS`, and gives those
bytes to the exchange only; the caller has closed and gets none of them. Past
either bound it gives up, and the call is recorded as cut short, as before.

The async reader is bounded by a cancel scope. A sync read cannot be
interrupted from its own thread: a watchdog timer shuts the connection's
socket down at the deadline, which ends the blocked read (the connection is
being closed anyway). Without a socket to shut (HTTP/2, a custom transport)
the sync read is bounded by the client's own read timeout only.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio

from .._core import Exchange

__all__ = ["TAIL_BYTES", "TAIL_SECONDS", "aread_tail", "read_tail"]

#: The most bytes read after the caller closed, waiting for the usage report.
TAIL_BYTES = 64 * 1024
#: The longest wait for the usage report after the caller closed, in seconds.
TAIL_SECONDS = 1.0


def read_tail(chunks: Iterator[bytes], exchange: Exchange, network: Any) -> None:
    """Feed ``exchange`` the rest of ``chunks`` until its usage report came, within the bounds."""
    watchdog = _Watchdog(network)
    deadline = time.monotonic() + TAIL_SECONDS
    size = 0
    try:
        while exchange.awaits_tail() and size < TAIL_BYTES and time.monotonic() < deadline:
            chunk = next(chunks, None)
            if chunk is None:
                if not watchdog.fired:  # the body's own end, not the socket we shut
                    exchange.end_of_body()
                return
            size += len(chunk)
            exchange.feed(chunk)
    except Exception:  # a read cut by the watchdog, or any other: the call ends here
        pass
    finally:
        watchdog.stop()


async def aread_tail(chunks: AsyncIterator[bytes], exchange: Exchange) -> None:
    """Async twin of :func:`read_tail`, bounded by a cancel scope."""
    size = 0
    with anyio.move_on_after(TAIL_SECONDS):
        try:
            while exchange.awaits_tail() and size < TAIL_BYTES:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    exchange.end_of_body()
                    return
                size += len(chunk)
                exchange.feed(chunk)
        except Exception:  # the connection failed: the call ends here
            pass


class _Watchdog:
    """Shuts a connection's socket down if the tail is still being read at the deadline."""

    def __init__(self, network: Any) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        #: True once the socket was shut: an end of body seen after it is not the body's.
        self.fired = False
        self._timer: threading.Timer | None = None
        sock = None
        with contextlib.suppress(Exception):
            sock = network.get_extra_info("socket") if network is not None else None
        if isinstance(sock, socket.socket):
            self._timer = threading.Timer(TAIL_SECONDS, self._fire, (sock,))
            self._timer.daemon = True
            self._timer.start()

    def _fire(self, sock: socket.socket) -> None:
        with self._lock:
            if not self._stopped:
                self.fired = True
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """The read is over: the socket must not be touched any more (it may be reused)."""
        with self._lock:
            self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
