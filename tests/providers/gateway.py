"""A real LLM server on 127.0.0.1: ``FakeLLM``'s answers over a socket, and what it sent.

The SDKs are pointed at ``http://127.0.0.1:PORT`` as at a LiteLLM proxy or any
gateway on localhost: the request crosses a real connection, the server answers
in the API's wire format (JSON or a stream written chunk by chunk) and keeps the
bytes it sent, so a test can read the usage the server reported independently
of tokenbudget.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx2

from tokenbudget.testing import FakeLLM

from ..loopback import LoopbackServer

_HOP_HEADERS = {"content-length", "transfer-encoding", "connection"}


class FakeServer(LoopbackServer):
    """Answers every ``POST`` with ``fake`` (a :class:`FakeLLM`); keeps each answer's bytes."""

    def __init__(self, fake: FakeLLM) -> None:
        super().__init__()
        self.fake = fake
        #: ``(path, bytes sent)`` of each answer, in order.
        self.sent: list[tuple[str, bytes]] = []
        self.url = f"http://{self.host}"
        self.default = self._answer

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        request = httpx2.Request(
            "POST",
            f"{self.url}{handler.path}",
            headers=[(k, v) for k, v in handler.headers.items() if k.lower() != "host"],
            content=handler.body,  # type: ignore[attr-defined]
        )
        response = self.fake.handle_request(request)
        handler.send_response(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in _HOP_HEADERS:
                handler.send_header(name, value)
        handler.end_headers()
        chunks = list(response.stream)
        # kept before writing: a client may act on the last event before we return
        self.sent.append((handler.path, b"".join(chunks)))
        for chunk in chunks:
            handler.wfile.write(chunk)
            handler.wfile.flush()

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
