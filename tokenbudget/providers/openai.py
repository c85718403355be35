"""OpenAI and Azure OpenAI: chat completions, Responses, legacy completions, embeddings.

Usage conventions (normalised into :class:`~tokenbudget.Usage`):

- Chat and completions report ``prompt_tokens``, which already *includes*
  ``prompt_tokens_details.cached_tokens``, and ``completion_tokens``, which
  already includes ``completion_tokens_details.reasoning_tokens``: both map
  straight onto input/output, with cached and reasoning as parts of them.
- The Responses API reports ``input_tokens`` (includes
  ``input_tokens_details.cached_tokens``) and ``output_tokens`` (includes
  ``output_tokens_details.reasoning_tokens``): same mapping.
- Embeddings report ``prompt_tokens`` only.
- Streamed chat reports usage only when the request has
  ``stream_options.include_usage``; then every chunk carries ``"usage": null``
  and one extra last chunk with ``"choices": []`` carries the usage. For
  api.openai.com and Azure, tokenbudget asks for it when the caller did not and
  hides both effects from the caller (see :func:`hide_injected_usage`).
- Streamed Responses report usage in the final ``response.completed`` (or
  ``response.incomplete`` / ``response.failed``) event.
- The billed model is the response's ``model`` (on Azure the request names a
  deployment, not a model).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._core import Endpoint, EventFilter, Observation, RequestView, ServerSentEvent, UsageReader
from .._data import Usage, make_usage
from ._base import OUTPUT_LIMIT_KEYS, Provider
from ._tokens import count_text_tokens

__all__ = ["OpenAIProvider", "normalise_openai_usage"]

UsageNormaliser = Callable[[Mapping[str, Any]], Usage]

#: Raw chunk JSON kept unparsed per stream before falling back to parsing each chunk.
_DEFER_LIMIT = 1 << 20

_AZURE_DEPLOYMENT = re.compile(r"/openai/deployments/([^/]+)/")
_COMMON_USAGE_NULL = (b',"usage":null', b', "usage": null')
_USAGE_NULL = re.compile(rb',\s*"usage"\s*:\s*null|"usage"\s*:\s*null\s*,?')

# Last path segment -> endpoint kind ("completions" is "chat" under ".../chat/").
_KINDS = {"completions": "completions", "responses": "responses", "embeddings": "embeddings"}


@functools.lru_cache(maxsize=512)  # an app posts to a handful of paths, again and again
def endpoint_kind(path: str) -> str | None:
    """The endpoint kind of an OpenAI API path (``chat``, ``responses``...), or ``None``."""
    kind = _KINDS.get(path[path.rfind("/") + 1 :])
    if kind == "completions" and path.endswith("/chat/completions"):
        return "chat"
    return kind


def _int(value: Any) -> int:
    """A token count: an int as is; anything else (``None``, a bool, a string) is 0."""
    return value if type(value) is int else 0


def normalise_openai_usage(usage: Mapping[str, Any]) -> Usage:
    """Normalise an OpenAI ``usage`` object (chat/completions/embeddings or Responses)."""
    get = usage.get
    if "input_tokens" in usage or "output_tokens" in usage:  # Responses API
        input_tokens = get("input_tokens")
        output_tokens = get("output_tokens")
        in_details = get("input_tokens_details")
        out_details = get("output_tokens_details")
    else:
        input_tokens = get("prompt_tokens")
        output_tokens = get("completion_tokens")
        in_details = get("prompt_tokens_details")
        out_details = get("completion_tokens_details")
    cached = audio_in = image_in = reasoning = audio_out = 0
    if in_details:
        cached = _int(in_details.get("cached_tokens"))
        audio_in = _int(in_details.get("audio_tokens"))
        image_in = _int(in_details.get("image_tokens"))
    if out_details:
        reasoning = _int(out_details.get("reasoning_tokens"))
        audio_out = _int(out_details.get("audio_tokens"))
    return make_usage(
        input_tokens=_int(input_tokens),
        output_tokens=_int(output_tokens),
        cached_input_tokens=cached,
        reasoning_tokens=reasoning,
        audio_input_tokens=audio_in,
        audio_output_tokens=audio_out,
        image_input_tokens=image_in,
    )


class OpenAIReader(UsageReader):
    """Reads OpenAI JSON bodies and SSE streams of every endpoint kind."""

    def __init__(self, endpoint: Endpoint, normalise: UsageNormaliser) -> None:
        super().__init__(endpoint)
        self._normalise = normalise
        self._deferred: list[str] = []
        self._deferred_size = 0
        if endpoint.watch_output:
            # A budget watches this stream (stop_streams): it needs the output text as it
            # arrives. Starting at the limit turns deferring off at no per-chunk cost.
            endpoint.output_live = True  # our promise: output_text stays current
            self._deferred_size = _DEFER_LIMIT

    def _take_usage(self, usage: Any) -> None:
        if type(usage) is dict or isinstance(usage, Mapping):
            self.observation.usage = self._normalise(usage)
            self.observation.raw_usage = usage
            self.observation.output_text.clear()  # no estimate needed any more

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
        found = _scan_body(body) if self.endpoint.provider in _SCANNED else None
        if found is None:
            self.on_json(json.loads(body))
            return
        # What on_json would take from the whole document, read off the scan.
        obs = self.observation
        usage = found["usage"]
        obs.usage = self._normalise(usage)
        obs.raw_usage = usage
        obs.model = found["model"]
        obs.response_id = found.get("id")
        obs.service_tier = found.get("service_tier")
        obs.complete = True

    def on_json(self, document: Any) -> None:
        if type(document) is not dict and not isinstance(document, Mapping):
            return
        self._take_head(document)
        self._take_usage(document.get("usage"))
        self.observation.complete = True

    def on_event(self, event: ServerSentEvent) -> None:
        data = event.data
        if data == "[DONE]":
            self.observation.complete = True
            return
        if not data or data[0] != "{":
            return
        if self.endpoint.kind == "responses":
            self._on_responses_event(json.loads(data))
        elif self._can_defer(data):
            # An ordinary content chunk: its text matters only if usage never
            # arrives, so parse it then (in result()), not now.
            self._deferred.append(data)
            self._deferred_size += len(data)
        else:
            self._on_chunk(json.loads(data))

    def _can_defer(self, data: str) -> bool:
        return (
            self.observation.model is not None
            and self._deferred_size < _DEFER_LIMIT
            and '"usage":{' not in data
            and '"usage": {' not in data
            and '"error"' not in data
        )

    def result(self) -> Observation:
        deferred, self._deferred = self._deferred, []
        if self.observation.usage is None:
            for data in deferred:
                self._on_chunk(json.loads(data))
        return self.observation

    def _on_chunk(self, chunk: Mapping[str, Any]) -> None:
        if "error" in chunk and isinstance(chunk["error"], Mapping):
            self.observation.error = str(chunk["error"].get("message") or chunk["error"])
            return
        self._take_head(chunk)
        usage = chunk.get("usage")
        if usage is not None:
            self._take_usage(usage)
        elif self.observation.usage is None:
            self.observation.output_text.extend(_chunk_texts(chunk.get("choices")))

    def _on_responses_event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type", "")
        response = event.get("response")
        if isinstance(response, Mapping):
            self._take_head(response)
            if kind in ("response.completed", "response.incomplete", "response.failed"):
                self._take_usage(response.get("usage"))
                self.observation.complete = True
                if kind == "response.failed":
                    error = response.get("error") or {}
                    self.observation.error = str(error.get("message") or "response.failed")
        elif kind.endswith(".delta") and isinstance(event.get("delta"), str):
            if self.observation.usage is None:
                self.observation.output_text.append(event["delta"])
        elif kind == "error":
            self.observation.error = str(event.get("message") or "error event")


#: Providers whose JSON bodies have a known key order (``id``, ``model`` before any
#: echoed request fields; ``usage`` last but for scalars and ``metadata``). Azure
#: sorts keys alphabetically (``choices`` first), so it is parsed in full.
_SCANNED = frozenset(("openai",))
_DECODER = json.JSONDecoder()


def _scan_body(body: bytes) -> dict[str, Any] | None:
    """The top-level ``id``, ``model``, ``usage`` and ``service_tier`` of an OpenAI body,
    read without parsing the whole document (the SDK parses it anyway).

    JSON strings escape their quotes, so ``"usage":`` can only be a key. The usage
    object is the last one, ``model`` and ``id`` the first; anything unexpected
    (a missing key, a value of the wrong type) returns ``None`` and the caller
    parses the body in full.
    """
    usage_at = body.rfind(b'"usage":')
    if usage_at < 0:
        return None
    # Only the tail after the usage key is decoded: usage, then a few scalars.
    tail = body[usage_at + 8 :].decode("utf-8").lstrip(" \n\r\t")
    try:
        usage, _ = _DECODER.raw_decode(tail)
    except ValueError:
        return None
    if not (isinstance(usage, dict) and ("prompt_tokens" in usage or "input_tokens" in usage)):
        return None
    head = _CHAT_HEAD.match(body)
    if head is not None:  # a chat completion: both read at once
        found: dict[str, Any] = {
            "usage": usage,
            "model": head.group(2).decode("utf-8"),
            "id": head.group(1).decode("utf-8"),
        }
    else:
        model = _head_string(body, b'"model":')
        if not isinstance(model, str):
            return None
        found = {"usage": usage, "model": model}
        response_id = _head_string(body, b'"id":')
        if response_id is not None:  # embeddings have no id
            if not isinstance(response_id, str):
                return None
            found["id"] = response_id
    tier_at = body.rfind(b'"service_tier":')  # after usage in chat, before it in Responses
    if tier_at >= 0:
        tier = _TIER.match(body, tier_at)
        if tier:
            found["service_tier"] = tier.group(1).decode("ascii")
    return found


_TIER = re.compile(rb'"service_tier":\s*"([A-Za-z_-]+)"')
# How a chat completion opens: id, object, created, then model, read by one match.
_CHAT_HEAD = re.compile(
    rb'\s*\{\s*"id":\s*"([^"\\]*)",\s*"object":\s*"[a-z.]*",\s*"created":\s*\d+,'
    rb'\s*"model":\s*"([^"\\]*)"'
)
_PLAIN_STRING = re.compile(rb'\s*"([^"\\]*)"')
_STRING_VALUE = re.compile(rb'\s*"((?:[^"\\]|\\.)*)"')
_NOT_A_STRING = object()


def _head_string(body: bytes, key: bytes) -> Any:
    """The string value at the first ``key`` of ``body``: ``None`` when the key is
    absent, ``_NOT_A_STRING`` when its value is something else."""
    at = body.find(key)
    if at < 0:
        return None
    match = _PLAIN_STRING.match(body, at + len(key))
    if match is not None:
        return match.group(1).decode("utf-8")
    match = _STRING_VALUE.match(body, at + len(key))  # one with escapes, or not a string
    if match is None:
        return _NOT_A_STRING
    decoded: str = json.loads(b'"' + match.group(1) + b'"')
    return decoded


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
        for call in delta.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping) and isinstance(function.get("arguments"), str):
                yield function["arguments"]


def hide_injected_usage(event: ServerSentEvent) -> bytes:
    """Undo what ``stream_options.include_usage`` changed in one chat chunk.

    Drops the extra usage-only chunk (``"choices": []`` with a usage object) and
    removes ``"usage": null`` from the others, so the caller sees the stream it
    asked for.
    """
    raw = event.raw
    for common in _COMMON_USAGE_NULL:  # the usual spellings, without a regex
        if common in raw:
            return raw.replace(common, b"", 1)
    if b'"usage"' not in raw:
        return raw
    if _USAGE_NULL.search(raw):
        return _USAGE_NULL.sub(b"", raw, count=1)
    document = json.loads(event.data) if event.data.startswith("{") else None
    if isinstance(document, Mapping) and document.get("choices") == [] and document.get("usage"):
        return b""
    return raw


class OpenAIProvider(Provider):
    """The OpenAI API shape, at api.openai.com, Azure, or any host that speaks it.

    ``inject_usage`` says whether the host is known to accept
    ``stream_options.include_usage`` (then tokenbudget may add it).
    ``normalise`` converts the host's usage object; hosts that count differently
    from OpenAI pass their own.
    """

    #: The field that limits a chat answer's length: OpenAI and Azure deprecated
    #: ``max_tokens`` for chat; compatible hosts still name it so.
    chat_output_limit = "max_completion_tokens"

    def __init__(
        self,
        name: str = "openai",
        *,
        inject_usage: bool = True,
        normalise: UsageNormaliser = normalise_openai_usage,
    ) -> None:
        self.name = name
        self.inject_usage = inject_usage
        self.normalise = normalise

    def match(self, request: RequestView) -> Endpoint | None:
        if request.method != "POST":
            return None
        path = request.path
        kind = endpoint_kind(path)
        if kind is None:
            return None
        body = request.json
        if not isinstance(body, Mapping):
            return None
        model = body.get("model")
        if not isinstance(model, str):
            deployment = _AZURE_DEPLOYMENT.search(path)
            model = deployment.group(1) if deployment else None
        tier = body.get("service_tier")
        return Endpoint(
            provider=self.name,
            kind=kind,
            handler=self,
            request_model=model,
            stream=body.get("stream") is True,
            host=request.host,
            service_tier=tier if isinstance(tier, str) else None,
        )

    def prepare(self, endpoint: Endpoint, request: RequestView) -> bytes | None:
        if not (self.inject_usage and endpoint.stream and endpoint.kind == "chat"):
            return None
        body = request.json
        options = body.get("stream_options")
        if isinstance(options, Mapping) and options.get("include_usage") is True:
            return None
        body = dict(body)
        body["stream_options"] = {
            **(options if isinstance(options, Mapping) else {}),
            "include_usage": True,
        }
        endpoint.usage_injected = True
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def cacheable(self, endpoint: Endpoint, request: RequestView) -> bool:
        # A Responses request with "background": true is answered at once with a
        # queued response, not the answer: a replay would hand back a stale status.
        if endpoint.kind != "responses":
            return True
        body = request.json
        return not (isinstance(body, Mapping) and body.get("background") is True)

    def event_filter(self, endpoint: Endpoint) -> EventFilter | None:
        return hide_injected_usage if endpoint.usage_injected else None

    def reader(self, endpoint: Endpoint) -> UsageReader:
        return OpenAIReader(endpoint, self.normalise)

    def estimate_input_tokens(self, endpoint: Endpoint, request: RequestView) -> int:
        body = request.json
        if not isinstance(body, Mapping):
            return 0
        model = endpoint.request_model
        kind = endpoint.kind
        if kind == "chat":
            return _count_messages(body.get("messages"), model)
        if kind == "responses":
            total = _count(body.get("instructions"), model)
            return total + _count_response_input(body.get("input"), model)
        if kind == "embeddings":
            return _count_prompt(body.get("input"), model)
        return _count_prompt(body.get("prompt"), model)

    def max_output_tokens(self, endpoint: Endpoint, request: RequestView) -> int | None:
        body = request.json
        if not isinstance(body, Mapping):
            return None
        if endpoint.kind == "embeddings":
            return 0
        for key in OUTPUT_LIMIT_KEYS:
            value = body.get(key)
            if isinstance(value, int):
                return value
        return 16 if endpoint.kind == "completions" else None

    def output_limit_field(self, endpoint: Endpoint) -> str:
        if endpoint.kind == "responses":
            return "max_output_tokens"
        return self.chat_output_limit if endpoint.kind == "chat" else "max_tokens"


def _count(text: Any, model: str | None) -> int:
    return count_text_tokens(text, model)[0] if isinstance(text, str) else 0


def _content_text(content: Any) -> str:
    """The text parts of a message's ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    parts = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, Mapping):
                text = part.get("text") or part.get("input_text") or part.get("output_text")
                if isinstance(text, str):
                    parts.append(text)
    return "".join(parts)


def _count_messages(messages: Any, model: str | None) -> int:
    """OpenAI's documented chat count: 3 tokens per message, 1 per name, 3 to prime the reply."""
    if not isinstance(messages, list):
        return 0
    total = 3
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        total += 3
        total += _count(message.get("role"), model)
        total += _count(_content_text(message.get("content")), model)
        if isinstance(message.get("name"), str):
            total += 1 + _count(message["name"], model)
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                total += _count(function.get("name"), model)
                total += _count(function.get("arguments"), model)
    return total


def _count_response_input(items: Any, model: str | None) -> int:
    if isinstance(items, str):
        return _count(items, model) + 3
    if not isinstance(items, list):
        return 0
    total = 3
    for item in items:
        if isinstance(item, Mapping):
            total += 3 + _count(_content_text(item.get("content")), model)
            total += _count(item.get("output"), model) + _count(item.get("arguments"), model)
    return total


def _count_prompt(prompt: Any, model: str | None) -> int:
    """Strings are counted; lists of ints are already tokens."""
    if isinstance(prompt, str):
        return _count(prompt, model)
    if isinstance(prompt, list):
        if all(isinstance(item, int) for item in prompt):
            return len(prompt)
        return sum(_count_prompt(item, model) for item in prompt)
    return 0
