"""Anthropic Messages API: JSON and SSE answers of ``/v1/messages``, free ``count_tokens``.

Usage conventions (normalised into :class:`~tokenbudget.Usage`):

- Anthropic's ``input_tokens`` *excludes* cache reads and cache writes, which
  are reported beside it as ``cache_read_input_tokens`` and
  ``cache_creation_input_tokens``. Normalised input is the sum of the three;
  cached input is the reads, cache writes are the creations.
- ``usage.cache_creation`` (when present) splits the writes by lifetime:
  ``ephemeral_1h_input_tokens`` becomes ``cache_write_1h_tokens``; the
  ``ephemeral_5m_input_tokens`` are the rest of the writes.
- ``output_tokens`` already includes extended-thinking tokens;
  ``output_tokens_details.thinking_tokens`` (when present) is the reasoning part.
- ``server_tool_use`` counts requests of server tools, billed per request:
  ``web_search_requests`` and the like go to ``Usage.extra`` under their own names.
- ``usage.service_tier`` (``standard``, ``priority``, ``batch``) is the tier billed.
- Streams: ``message_start`` carries the message head and the usage so far
  (input figures, a first ``output_tokens``); each ``message_delta`` carries
  *cumulative* usage that overwrites the fields it names; ``message_stop`` ends
  the message. ``ping`` events are keep-alives. An ``error`` event mid-stream
  (e.g. ``overloaded_error``) ends the stream early: what was seen is kept, the
  record is estimated, and the SDK raises by itself.
- ``/v1/messages/count_tokens`` is free: recorded with zero usage and cost.
- The billed model is the response's ``model``.

Anthropic models served by Vertex AI (``:rawPredict`` / ``:streamRawPredict``)
answer in this same format; :mod:`tokenbudget.providers.google` reuses
:class:`AnthropicReader` for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from .._core import Endpoint, Observation, RequestView, ServerSentEvent, UsageReader
from .._data import Usage, make_usage
from ._base import Provider
from ._tokens import count_text_tokens

__all__ = ["AnthropicProvider", "AnthropicReader", "normalise_anthropic_usage"]

#: Raw delta JSON kept unparsed per stream before falling back to parsing each delta.
_DEFER_LIMIT = 1 << 20
_MESSAGES = "/v1/messages"
_COUNT_TOKENS = "/v1/messages/count_tokens"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _details(usage: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = usage.get(key)
    return found if isinstance(found, Mapping) else {}


def normalise_anthropic_usage(usage: Mapping[str, Any]) -> Usage:
    """Normalise an Anthropic ``usage`` object (a message's, or the merged stream's)."""
    cache_read = _int(usage.get("cache_read_input_tokens"))
    cache_write = _int(usage.get("cache_creation_input_tokens"))
    write_1h = _int(_details(usage, "cache_creation").get("ephemeral_1h_input_tokens"))
    thinking = _int(_details(usage, "output_tokens_details").get("thinking_tokens"))
    tools = _details(usage, "server_tool_use")
    requests = {key: value for key, value in tools.items() if _int(value) > 0}
    return make_usage(
        input_tokens=_int(usage.get("input_tokens")) + cache_read + cache_write,
        output_tokens=_int(usage.get("output_tokens")),
        cached_input_tokens=cache_read,
        cache_write_tokens=cache_write,
        cache_write_1h_tokens=min(write_1h, cache_write),
        reasoning_tokens=thinking,
        extra=MappingProxyType(requests),
    )


class AnthropicReader(UsageReader):
    """Reads a Messages API answer: one JSON message, or its SSE events."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self._usage: dict[str, Any] = {}
        self._final = False  # a message_delta has given the final output count
        self._deferred: list[str] = []  # raw content_block_delta data, parsed if needed
        self._deferred_size = 0
        if endpoint.watch_output:
            # A budget watches this stream (stop_streams): keep output_text current.
            endpoint.output_live = True
            self._deferred_size = _DEFER_LIMIT

    def on_json(self, document: Any) -> None:
        if not isinstance(document, Mapping):
            return
        if document.get("type") == "error":
            self._on_error(document)
            return
        self._take_head(document)
        usage = document.get("usage")
        if isinstance(usage, Mapping):
            self._merge(usage)
        else:  # kept for counting: the answer's own text
            self.observation.output_text.extend(_block_texts(document.get("content")))
        self.observation.complete = True

    def on_event(self, event: ServerSentEvent) -> None:
        data = event.data
        if not data or data[0] != "{" or event.event == "ping":
            return
        if event.event == "content_block_delta" and self._deferred_size < _DEFER_LIMIT:
            # Its text matters only if the final usage never arrives: parse it then.
            if not self._final:
                self._deferred.append(data)
                self._deferred_size += len(data)
            return
        document = json.loads(data)
        kind = document.get("type") or event.event
        if kind == "message_start":
            message = document.get("message")
            if isinstance(message, Mapping):
                self._take_head(message)
                if isinstance(message.get("usage"), Mapping):
                    self._merge(message["usage"])
        elif kind == "content_block_delta":
            if not self._final:
                self.observation.output_text.extend(_delta_texts(document.get("delta")))
        elif kind == "message_delta":
            if isinstance(document.get("usage"), Mapping):
                self._merge(document["usage"])
                self._final = True
                self._deferred.clear()
                self.observation.output_text.clear()
        elif kind == "message_stop":
            self.observation.complete = True
        elif kind == "error":
            self._on_error(document)

    def result(self) -> Observation:
        deferred, self._deferred = self._deferred, []
        if not self._final:
            for data in deferred:
                try:
                    delta = json.loads(data).get("delta")
                except ValueError:  # a malformed delta: the rest still counts
                    continue
                self.observation.output_text.extend(_delta_texts(delta))
        return self.observation

    def _take_head(self, message: Mapping[str, Any]) -> None:
        obs = self.observation
        if isinstance(message.get("model"), str):
            obs.model = message["model"]
        if isinstance(message.get("id"), str):
            obs.response_id = message["id"]

    def _merge(self, usage: Mapping[str, Any]) -> None:
        """Cumulative figures overwrite; fields a delta leaves out (or nulls) keep their value."""
        for key, value in usage.items():
            if value is not None:
                self._usage[key] = value
        obs = self.observation
        obs.usage = normalise_anthropic_usage(self._usage)
        obs.raw_usage = dict(self._usage)
        tier = self._usage.get("service_tier")
        if isinstance(tier, str):
            obs.service_tier = tier

    def _on_error(self, document: Mapping[str, Any]) -> None:
        error = document.get("error")
        if isinstance(error, Mapping):
            kind, message = error.get("type"), error.get("message")
            self.observation.error = ": ".join(str(p) for p in (kind, message) if p) or "error"
        else:
            self.observation.error = "error event"


def _block_texts(content: Any) -> Iterable[str]:
    """The generated text of a message's content blocks: text, thinking, tool inputs."""
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, Mapping):
            continue
        for key in ("text", "thinking"):
            if isinstance(block.get(key), str):
                yield block[key]
        if "input" in block:
            yield json.dumps(block["input"], ensure_ascii=False, separators=(",", ":"))


def _delta_texts(delta: Any) -> Iterable[str]:
    """The generated text of one ``content_block_delta``: text, thinking or tool input."""
    if isinstance(delta, Mapping):
        for key in ("text", "thinking", "partial_json"):
            if isinstance(delta.get(key), str):
                yield delta[key]


class AnthropicProvider(Provider):
    """The Anthropic Messages API at api.anthropic.com (or any host that speaks it)."""

    def __init__(self, name: str = "anthropic") -> None:
        self.name = name

    def match(self, request: RequestView) -> Endpoint | None:
        if request.method != "POST":
            return None
        path = request.path.rstrip("/")
        if path.endswith(_COUNT_TOKENS):
            kind, billable = "count_tokens", False
        elif path.endswith(_MESSAGES):
            kind, billable = "messages", True
        else:
            return None
        body = request.json
        if not isinstance(body, Mapping):
            return None
        model = body.get("model")
        return Endpoint(
            provider=self.name,
            kind=kind,
            handler=self,
            request_model=model if isinstance(model, str) else None,
            stream=billable and body.get("stream") is True,
            billable=billable,
            host=request.host,
        )

    def reader(self, endpoint: Endpoint) -> UsageReader:
        return AnthropicReader(endpoint)

    def estimate_input_tokens(self, endpoint: Endpoint, request: RequestView) -> int:
        body = request.json
        if not isinstance(body, Mapping):
            return 0
        return count_messages_input(body, endpoint.request_model)

    def max_output_tokens(self, endpoint: Endpoint, request: RequestView) -> int | None:
        if not endpoint.billable:
            return 0
        body = request.json
        value = body.get("max_tokens") if isinstance(body, Mapping) else None
        return value if isinstance(value, int) else None


def count_messages_input(body: Mapping[str, Any], model: str | None) -> int:
    """Input tokens of a Messages request, counted locally (an approximation).

    Counts the system prompt, every text, thinking, tool input and tool result of
    the messages, and the tool definitions, with a small overhead per message.
    """
    texts: list[str] = []
    _collect(body.get("system"), texts)
    messages = body.get("messages")
    overhead = 0
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, Mapping):
                overhead += 4
                _collect(message.get("content"), texts)
    for tool in body.get("tools") or ():
        if isinstance(tool, Mapping):
            texts.append(json.dumps(tool, ensure_ascii=False, separators=(",", ":")))
    return overhead + sum(count_text_tokens(text, model)[0] for text in texts if text)


def _collect(content: Any, texts: list[str]) -> None:
    """Append the countable text of a content string or list of content blocks."""
    if isinstance(content, str):
        texts.append(content)
        return
    if not isinstance(content, list):
        return
    for block in content:
        if not isinstance(block, Mapping):
            continue
        for key in ("text", "thinking"):
            if isinstance(block.get(key), str):
                texts.append(block[key])
        if "input" in block and block.get("type") in ("tool_use", "server_tool_use"):
            texts.append(json.dumps(block["input"], ensure_ascii=False, separators=(",", ":")))
        if block.get("type") == "tool_result":
            _collect(block.get("content"), texts)
