"""Reading Anthropic answers: one JSON message, or the SSE events of a stream.

``message_start`` carries the message head and the usage so far; each
``message_delta`` carries *cumulative* usage that overwrites the fields it
names; ``message_stop`` ends the message; ``ping`` events are keep-alives. The
text of ``content_block_delta`` events matters only if the final usage never
arrives, so it is kept unparsed (up to a limit) and parsed only then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..._core import Endpoint, Observation, ServerSentEvent, UsageReader
from .._base import DEFER_LIMIT
from ._usage import normalise_anthropic_usage

__all__ = ["AnthropicReader"]


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
            self._deferred_size = DEFER_LIMIT

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
        counted = self.observation.usage
        if counted is None or counted.estimated:  # kept for counting: the answer's own text
            self.observation.output_text.extend(_block_texts(document.get("content")))
        self.observation.complete = True

    def on_event(self, event: ServerSentEvent) -> None:
        data = event.data
        if not data or data[0] != "{" or event.event == "ping":
            return
        if event.event == "content_block_delta" and self._deferred_size < DEFER_LIMIT:
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
            self.observation.final = True  # only message_stop follows
            if isinstance(document.get("usage"), Mapping):
                self._merge(document["usage"])
                usage = self.observation.usage
                if usage is not None and not usage.estimated:  # else the text still counts
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
        if self._usage.get("speed") == "fast" and obs.service_tier in (None, "standard"):
            obs.service_tier = "fast"  # fast mode: its own prices, on the standard tier

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
