"""A real HTTP server on 127.0.0.1 for tests where sockets and timing matter, and what it sends."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: ``route(handler)`` writes the whole response through the handler's socket.
Route = Callable[[BaseHTTPRequestHandler], None]


class LoopbackServer:
    """Routes by path to functions that write raw responses; records what it saw.

    ``default`` answers every path ``routes`` does not name (404 when unset).
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.default: Route | None = None
        self.requests: list[tuple[str, bytes]] = []
        self.disconnects = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.body = self.rfile.read(length)  # this request's, for its route
                server.requests.append((self.path, self.body))
                route = server.routes.get(self.path.split("?")[0], server.default)
                if route is None:
                    self.send_error(404)
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    server.disconnects += 1

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.base_url = f"http://{self.host}/v1"

    @contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        # a short poll: shutdown() waits for it, once per test
        serve = functools.partial(self._httpd.serve_forever, poll_interval=0.02)
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join(5)


def start_response(handler: BaseHTTPRequestHandler, headers: dict[str, str]) -> None:
    """Send a 200 head with ``headers`` (no content-length: the body ends at close)."""
    handler.send_response(200)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.flush()


def chat_chunk(text: str, model: str = "gpt-4o-mini-2024-07-18") -> bytes:
    """One SSE event of an OpenAI chat stream carrying ``text`` (no usage)."""
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
        "usage": None,
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"
