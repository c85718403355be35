"""A real LLM server on 127.0.0.1: ``FakeLLM``'s answers over a socket, and what it sent.

The SDKs are pointed at ``http://127.0.0.1:PORT`` as at a LiteLLM proxy or any
gateway on localhost: the request crosses a real connection, the server answers
in the API's wire format (JSON or a stream written chunk by chunk) and keeps the
bytes it sent, so a test can read the usage the server reported independently
of tokenbudget.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2

from tokenbudget.testing import FakeLLM

_HOP_HEADERS = {"content-length", "transfer-encoding", "connection"}


class FakeServer:
    """Answers every ``POST`` with ``fake`` (a :class:`FakeLLM`); keeps each answer's bytes."""

    def __init__(self, fake: FakeLLM) -> None:
        self.fake = fake
        #: ``(path, bytes sent)`` of each answer, in order.
        self.sent: list[tuple[str, bytes]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = httpx2.Request(
                    "POST",
                    f"http://{server.host}{self.path}",
                    headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"],
                    content=self.rfile.read(length),
                )
                response = server.fake.handle_request(request)
                self.send_response(response.status_code)
                for name, value in response.headers.multi_items():
                    if name.lower() not in _HOP_HEADERS:
                        self.send_header(name, value)
                self.end_headers()
                chunks = list(response.stream)
                # kept before writing: a client may act on the last event before we return
                server.sent.append((self.path, b"".join(chunks)))
                for chunk in chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"

    @contextmanager
    def running(self) -> Iterator[FakeServer]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join(5)

    def last_usage(self) -> dict[str, Any]:
        """The usage object the server sent last: its JSON body's, or its stream's last one.

        OpenAI chat and Responses bodies, Anthropic messages (``message_start`` usage
        updated by each ``message_delta``) and Gemini ``usageMetadata`` alike.
        """
        return sent_usage(self.sent[-1][1])


def sent_usage(body: bytes) -> dict[str, Any]:
    """The usage an answer's bytes carry (see :meth:`FakeServer.last_usage`)."""
    text = body.decode()
    if not text.lstrip().startswith(("data:", "event:")):
        return _usage_of(json.loads(text))
    usage: dict[str, Any] = {}
    for line in text.splitlines():
        if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]"):
            usage.update(_usage_of(json.loads(line[5:])))
    return usage


def _usage_of(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        return {}
    for key in ("usage", "usageMetadata"):
        if isinstance(document.get(key), dict):
            return dict(document[key])
    for key in ("response", "message"):  # Responses' final event, Anthropic's message_start
        if isinstance(document.get(key), dict):
            return _usage_of(document[key])
    return {}
