"""Reading OpenAI answers: one JSON body, or the SSE events of a stream.

- Streamed chat reports usage only when the request has
  ``stream_options.include_usage``; then one extra last chunk with
  ``"choices": []`` carries it. Until it arrives, the text of each chunk is
  kept (unparsed, up to a limit) in case the stream is cut short and its
  output has to be counted.
- Streamed Responses report usage in the final ``response.completed`` (or
  ``response.incomplete`` / ``response.failed``) event.
- The billed model is the answer's ``model`` (on Azure the request names a
  deployment, not a model).
- Built-in tools billed per call are counted into ``Usage.extra``: each
  Responses output item of type ``web_search_call`` is one
  ``web_search_requests``, each ``file_search_call`` one
  ``file_search_requests`` (read from the whole answer, or from the stream's
  final ``response.completed``). Chat models that always search
  (``gpt-4o-search-preview``, ``gpt-5-search-api``: a ``-search-`` in the name)
  make one ``web_search_requests`` per answered request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..._core import Endpoint, Observation, ServerSentEvent, UsageReader
from .._base import DEFER_LIMIT
from .._figures import checking, is_validating
from ._scan import SCANNED_PROVIDERS, scan_body
from ._usage import UsageNormaliser

__all__ = ["OpenAIReader"]

#: Responses output item types billed per call, and the price data's unit for each.
_TOOL_UNITS = {"web_search_call": "web_search_requests", "file_search_call": "file_search_requests"}
#: Bytes that only a body with such an item can hold (quotes are escaped inside strings).
_TOOL_MARKS = (b'"web_search_call"', b'"file_search_call"')
#: ``OpenAIReader._head`` once the first content chunk was read.
_READ: Any = b""


class OpenAIReader(UsageReader):
    """Reads OpenAI JSON bodies and SSE streams of every endpoint kind."""

    def __init__(self, endpoint: Endpoint, normalise: UsageNormaliser) -> None:
        # UsageReader.__init__'s two fields, set here: no frame nor proxy object per call.
        self.endpoint = endpoint
        self.observation = Observation()
        self._normalise = normalise if is_validating(normalise) else checking(normalise)
        self._deferred: list[bytes] = []
        self._deferred_size = 0
        # The stream's first content chunk, read when a later chunk is, or at the end
        # (_read_head): None before it, _READ once read.
        self._head: bytes | None = None
        self._tool_calls: dict[str, int] | None = None
        self._responses = endpoint.kind == "responses"
        if endpoint.watch_output:
            # A budget watches this stream (stop_streams): it needs the output text as it
            # arrives. Starting at the limit turns deferring off at no per-chunk cost.
            endpoint.output_live = True  # our promise: output_text stays current
            self._deferred_size = DEFER_LIMIT

    def _take_usage(self, usage: Any) -> None:
        if type(usage) is dict or isinstance(usage, Mapping):
            normalised = self._normalise(usage)
            self.observation.usage = normalised
            self.observation.raw_usage = usage
            if not normalised.estimated:  # else the text counts what was dropped
                self.observation.forget_output_text()  # no estimate needed any more

    def _take_head(self, document: Mapping[str, Any]) -> None:
        obs = self.observation
        if obs.model is None and isinstance(document.get("model"), str):
            obs.model = document["model"]
        if obs.response_id is None and isinstance(document.get("id"), str):
            obs.response_id = document["id"]
        tier = document.get("service_tier")
        if isinstance(tier, str):
            obs.service_tier = tier

    def on_body(self, body: bytes) -> None:
        found = scan_body(body) if self.endpoint.provider in SCANNED_PROVIDERS else None
        # Responses with output items billed per call are read in full, to count them.
        if found is not None and not (self._responses and _has_tool_calls(body)):
            usage, model, response_id, tier = found
            normalised = self._normalise(usage)
            if not normalised.estimated:  # else read in full, to count the text
                # What on_json would take from the whole document, read off the scan.
                obs = self.observation
                obs.usage = normalised
                obs.raw_usage = usage
                obs.model = model
                obs.response_id = response_id
                obs.service_tier = tier
                obs.complete = True
                return
        self.on_json(json.loads(body))

    @classmethod
    def reads_document(cls) -> bool:
        # on_body's scan reads what on_json reads of the whole document, or parses it.
        return cls.on_body is _SCAN_OR_DOCUMENT

    def on_json(self, document: Any) -> None:
        if type(document) is not dict and not isinstance(document, Mapping):
            return
        self._take_head(document)
        self._take_usage(document.get("usage"))
        if self.endpoint.kind == "responses":
            self._count_tools(document.get("output"))
        usage = self.observation.usage
        if usage is None or usage.estimated:  # the output has to be counted
            self.observation.output_text.extend(_answer_texts(document))
        self.observation.complete = True

    def on_event(self, event: ServerSentEvent) -> None:
        self.on_data(event.data.encode("utf-8", "surrogatepass"))

    def on_data(self, data: bytes) -> None:
        if data[:1] != b"{":
            if data == b"[DONE]":
                self.observation.complete = True
            return
        if self._responses:
            self._on_responses_event(_loads(data))
            return
        # Searches in the text: the cheapest per-chunk reading there is. A str "in" takes
        # its operand as it is, where a bytes find parses its arguments anew on each call
        # and a bytes "in" first tries its operand as an int (CPython 3.11). An ASCII key
        # is in the text exactly when it is in the bytes: a UTF-8 sequence, or one that
        # is replaced, never holds an ASCII byte.
        try:
            text = data.decode()
        except UnicodeDecodeError:
            text = data.decode("utf-8", "replace")
        if '"finish_reason":"' in text or '"finish_reason": "' in text:
            self.observation.final = True  # only the usage chunk and [DONE] follow
        if (
            self._deferred_size < DEFER_LIMIT
            and '"usage":{' not in text
            and '"usage": {' not in text
            and '"error"' not in text
        ):
            head = self._head
            if head is None:
                # The first content chunk: it names the model, which later chunks are put
                # off for, but nothing needs it before the stream's end or its next parsed
                # chunk. Read then, not on the way to the caller's first chunk.
                self._head = data
                return
            if head is not _READ or self.observation.model is not None:
                # An ordinary content chunk: its text matters only if usage never
                # arrives, so parse it then (in result()), not now.
                self._deferred.append(data)  # (the bytes: a str of one emoji takes 4 per char)
                self._deferred_size += len(data)
                return
        self._read_head()
        self._on_chunk(json.loads(text))

    def catch_up(self) -> None:
        self._read_head()

    def _read_head(self) -> None:
        """Read the first content chunk, put off until now, and so every chunk in order.

        Chunks after it were put off on the promise of its model; when it names
        none, those are read now, in order, until one does, as they would have
        been read on arrival.
        """
        head = self._head
        if head is _READ:
            return
        self._head = _READ
        if head is None:
            return
        deferred = self._deferred
        taken = 0  # of what was put off after the head while no model is known
        try:
            self._on_chunk(_loads(head))
            while self.observation.model is None and taken < len(deferred):
                self._on_chunk(_loads(deferred[taken]))
                self._deferred_size -= len(deferred[taken])
                taken += 1
        except BaseException:
            # Read on arrival, this chunk would have stopped the reading there: nothing
            # after it would have been read either.
            deferred.clear()
            raise
        del deferred[:taken]

    def result(self) -> Observation:
        if self._head:  # a first content chunk still put off (None: none came; _READ: read)
            self._read_head()
        deferred, self._deferred = self._deferred, []
        obs = self.observation
        usage = obs.usage
        if usage is None or usage.estimated:
            for data in deferred:
                self._on_chunk(_loads(data))
            usage = obs.usage
        if usage is not None:
            if self._tool_calls:
                obs.usage = usage.with_units(self._tool_calls)
            elif self.endpoint.kind == "chat" and obs.model and "-search-" in obs.model:
                obs.usage = usage.with_units({"web_search_requests": 1})
        return obs

    def _count_tools(self, output: Any) -> None:
        """Count the output items of a whole Responses answer that are billed per call."""
        if not isinstance(output, list):
            return
        counts: dict[str, int] = {}
        for item in output:
            kind = item.get("type") if isinstance(item, Mapping) else None
            unit = _TOOL_UNITS.get(kind) if isinstance(kind, str) else None
            if unit is not None:
                counts[unit] = counts.get(unit, 0) + 1
        self._tool_calls = counts

    def _on_chunk(self, chunk: Mapping[str, Any]) -> None:
        """Take one chat or completions chunk (compatible hosts' readers extend this)."""
        if "error" in chunk and isinstance(chunk["error"], Mapping):
            self.observation.error = str(chunk["error"].get("message") or chunk["error"])
            return
        self._take_head(chunk)
        usage = chunk.get("usage")
        if usage is not None:
            self._take_usage(usage)
        elif self.observation.usage is None or self.observation.usage.estimated:
            self.observation.output_text.extend(_chunk_texts(chunk.get("choices")))

    def _on_responses_event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if not isinstance(kind, str):
            return
        response = event.get("response")
        if isinstance(response, Mapping):
            self._take_head(response)
            if kind in ("response.completed", "response.incomplete", "response.failed"):
                self._take_usage(response.get("usage"))
                self._count_tools(response.get("output"))
                self.observation.complete = True
                if kind == "response.failed":
                    error = response.get("error")
                    message = error.get("message") if isinstance(error, Mapping) else None
                    self.observation.error = str(message or "response.failed")
        elif kind.endswith(".delta") and isinstance(event.get("delta"), str):
            usage = self.observation.usage
            if usage is None or usage.estimated:
                self.observation.output_text.append(event["delta"])
        elif kind == "error":
            self.observation.error = str(event.get("message") or "error event")


#: OpenAIReader.on_body as defined (one patched over it reads otherwise).
_SCAN_OR_DOCUMENT = OpenAIReader.on_body


def _loads(data: bytes) -> Any:
    """An event's data parsed as its text is: UTF-8, invalid bytes replaced."""
    return json.loads(data.decode("utf-8", "replace"))


def _has_tool_calls(body: bytes) -> bool:
    return any(mark in body for mark in _TOOL_MARKS)


def _chunk_texts(choices: Any) -> Iterable[str]:
    """Text of a chat or completions chunk's choices: content, refusal, tool arguments."""
    if not isinstance(choices, list):
        return
    for choice in choices:
        if not isinstance(choice, Mapping):
            continue
        if isinstance(choice.get("text"), str):  # legacy completions
            yield choice["text"]
        delta = choice.get("delta")
        if not isinstance(delta, Mapping):
            continue
        for key in ("content", "refusal", "reasoning_content"):
            if isinstance(delta.get(key), str):
                yield delta[key]
        calls = delta.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping) and isinstance(function.get("arguments"), str):
                yield function["arguments"]


def _answer_texts(document: Mapping[str, Any]) -> Iterable[str]:
    """Text of a whole answer: chat messages, completions, Responses output items."""
    choices = document.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        if not isinstance(choice, Mapping):
            continue
        if isinstance(choice.get("text"), str):
            yield choice["text"]
        message = choice.get("message")
        if isinstance(message, Mapping):
            yield from _chunk_texts([{"delta": message}])
    output = document.get("output")
    for item in output if isinstance(output, list) else ():
        content = item.get("content") if isinstance(item, Mapping) else None
        for part in content if isinstance(content, list) else ():
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                yield part["text"]
