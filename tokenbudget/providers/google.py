"""Google Gemini API and Vertex AI: generateContent, streams, embeddings, free token counts.

Requests name the model in the URL path, ``.../models/{model}:{method}``
(Gemini API ``/v1beta/models/gemini-2.5-flash:generateContent``; Vertex AI
``/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{method}``
or, with an API key, ``/v1/publishers/google/models/{model}:{method}``). The
billed model is the response's ``modelVersion``.

Usage conventions of ``usageMetadata`` (normalised into :class:`~tokenbudget.Usage`):

- ``promptTokenCount`` already *includes* ``cachedContentTokenCount`` (context
  cache hits, explicit or implicit): input is the prompt count, cached input
  is the cached count.
- ``toolUsePromptTokenCount`` (results of server-side tools fed back to the
  model) is more input, *not* included in ``promptTokenCount``.
- ``thoughtsTokenCount`` is output *not* included in ``candidatesTokenCount``:
  output is candidates plus thoughts, reasoning is the thoughts.
  (``totalTokenCount`` = prompt + tool-use prompt + candidates + thoughts.)
- ``promptTokensDetails`` / ``candidatesTokensDetails`` give audio and image
  parts by modality.
- Streams (``:streamGenerateContent``, with ``alt=sse`` or as one JSON array)
  repeat *cumulative* ``usageMetadata`` in their chunks: the last one wins. A
  chunk whose candidate has a ``finishReason`` ends the answer.
- ``embedContent`` / ``batchEmbedContents`` answers carry ``usageMetadata`` only
  on some API versions; without it the input is counted locally and the record
  is marked estimated. Vertex ``:predict`` embeddings report
  ``predictions[].embeddings.statistics.token_count``.
- ``:countTokens`` and ``:computeTokens`` are free: recorded with zero usage and cost.
- Vertex AI also serves Anthropic models (``publishers/anthropic/...:rawPredict``
  and ``:streamRawPredict``), answering in the Anthropic Messages format, and an
  OpenAI-compatible ``.../endpoints/openapi/chat/completions``; the Gemini API
  has one under ``/v1beta/openai/``. Those are read with the Anthropic and
  OpenAI readers, recorded under this provider's name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .._core import Endpoint, Observation, RequestView, ServerSentEvent, UsageReader
from .._data import Usage, make_usage
from ._base import Provider
from ._tokens import count_text_tokens
from .anthropic import AnthropicProvider
from .compatible import CompatibleProvider, normalise_openai_compatible_usage

__all__ = [
    "VERTEX_HOSTS",
    "VERTEX_HOST_SUFFIXES",
    "GeminiReader",
    "GoogleProvider",
    "normalise_gemini_usage",
    "parse_model_path",
]

#: Vertex AI hosts: global, multi-region (``us``/``eu``) and mTLS endpoints.
VERTEX_HOSTS = [
    "aiplatform.googleapis.com",
    "aiplatform.mtls.googleapis.com",
    "aiplatform.us.rep.googleapis.com",
    "aiplatform.eu.rep.googleapis.com",
]
#: Regional Vertex AI hosts: ``{location}-aiplatform.googleapis.com``.
VERTEX_HOST_SUFFIXES = ["-aiplatform.googleapis.com", "-aiplatform.mtls.googleapis.com"]

# ".../{publishers/x/}models/{model}:{method}", or a Vertex tuned-model endpoint.
_MODEL_PATH = re.compile(
    r"/(?:[^:]*?/)?(?:publishers/(?P<publisher>[^/:]+)/)?"
    r"(?:models|tunedModels|endpoints)/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$"
)
#: Raw SSE chunk JSON kept unparsed per stream before parsing what is held.
_DEFER_LIMIT = 1 << 20
_GENERATE = {"generateContent": False, "streamGenerateContent": True}
_EMBED = {"embedContent", "batchEmbedContents"}
_FREE = {"countTokens", "computeTokens"}
_ANTHROPIC = {"rawPredict": False, "streamRawPredict": True}


def parse_model_path(path: str) -> tuple[str | None, str, str] | None:
    """``(publisher, model, method)`` of a Gemini/Vertex model path, or ``None``."""
    found = _MODEL_PATH.search(path)
    if found is None:
        return None
    return found["publisher"], found["model"], found["method"]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _by_modality(details: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    if isinstance(details, list):
        for item in details:
            if isinstance(item, Mapping) and isinstance(item.get("modality"), str):
                modality = item["modality"].upper()
                counts[modality] = counts.get(modality, 0) + _int(item.get("tokenCount"))
    return counts


def normalise_gemini_usage(meta: Mapping[str, Any]) -> Usage:
    """Normalise a Gemini ``usageMetadata`` object."""
    thoughts = _int(meta.get("thoughtsTokenCount"))
    prompt = _by_modality(meta.get("promptTokensDetails"))
    tool_use = _by_modality(meta.get("toolUsePromptTokensDetails"))
    out = _by_modality(meta.get("candidatesTokensDetails"))
    return make_usage(
        input_tokens=_int(meta.get("promptTokenCount")) + _int(meta.get("toolUsePromptTokenCount")),
        output_tokens=_int(meta.get("candidatesTokenCount")) + thoughts,
        cached_input_tokens=_int(meta.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
        audio_input_tokens=prompt.get("AUDIO", 0) + tool_use.get("AUDIO", 0),
        audio_output_tokens=out.get("AUDIO", 0),
        image_input_tokens=prompt.get("IMAGE", 0) + tool_use.get("IMAGE", 0),
        image_output_tokens=out.get("IMAGE", 0),
    )


class GeminiReader(UsageReader):
    """Reads Gemini answers: a JSON body, a JSON array of chunks, or SSE chunks.

    SSE chunks are kept raw and parsed in :meth:`result`: usage is cumulative,
    so a stream that ends normally needs only its last chunk parsed; the others
    (their text) matter only when the stream was cut short.
    """

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self._pending: list[str] = []
        self._pending_size = 0
        # A budget watching this stream (stop_streams) needs each chunk read as it comes.
        self._live = bool(endpoint.watch_output)
        if self._live:
            endpoint.output_live = True

    def on_json(self, document: Any) -> None:
        for item in document if isinstance(document, list) else (document,):
            self._on_chunk(item)
        self.observation.complete = True  # the whole body (or array) was read

    def on_event(self, event: ServerSentEvent) -> None:
        data = event.data
        if not data or data[0] != "{":
            return
        if self._live:
            self._on_chunk(_loads(data))
            return
        if self._pending_size + len(data) > _DEFER_LIMIT:
            self._flush()
        self._pending.append(data)
        self._pending_size += len(data)

    def result(self) -> Observation:
        pending = self._pending
        if pending and self.observation.error is None:
            last = _loads(pending[-1])
            if _is_final(last):
                self._pending, self._pending_size = [], 0
                self._on_chunk(last)
                self.observation.output_text.clear()
                return self.observation
        self._flush()
        return self.observation

    def _flush(self) -> None:
        pending, self._pending, self._pending_size = self._pending, [], 0
        for data in pending:
            self._on_chunk(_loads(data))

    def _on_chunk(self, chunk: Any) -> None:
        if not isinstance(chunk, Mapping):
            return
        obs = self.observation
        error = chunk.get("error")
        if isinstance(error, Mapping):
            obs.error = str(error.get("message") or error.get("status") or "error")
            return
        if isinstance(chunk.get("modelVersion"), str):
            obs.model = chunk["modelVersion"]
        if isinstance(chunk.get("responseId"), str):
            obs.response_id = chunk["responseId"]
        meta = chunk.get("usageMetadata")
        if isinstance(meta, Mapping):
            obs.usage = normalise_gemini_usage(meta)
            obs.raw_usage = dict(meta)
        elif isinstance(chunk.get("predictions"), list):
            self._on_predictions(chunk["predictions"])
        candidates = chunk.get("candidates")
        if isinstance(candidates, list):
            # Cumulative usage can be cut short with the stream: keep the text to count.
            obs.output_text.extend(_candidate_texts(candidates))
            if any(isinstance(c, Mapping) and c.get("finishReason") for c in candidates):
                obs.complete = True
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, Mapping) and feedback.get("blockReason"):
            obs.complete = True
        if obs.complete and obs.usage is not None:
            obs.output_text.clear()

    def _on_predictions(self, predictions: list[Any]) -> None:
        """Vertex ``:predict`` embeddings: each prediction reports its own token count."""
        total, found = 0, False
        for prediction in predictions:
            embeddings = prediction.get("embeddings") if isinstance(prediction, Mapping) else None
            stats = embeddings.get("statistics") if isinstance(embeddings, Mapping) else None
            if isinstance(stats, Mapping) and "token_count" in stats:
                found = True
                total += int(stats["token_count"])
        if found:
            self.observation.usage = Usage(input_tokens=total)
            self.observation.raw_usage = {"token_count": total}


def _loads(data: str) -> Any:
    """A chunk's JSON, or ``None`` for a malformed one (skipped: the rest still counts)."""
    try:
        return json.loads(data)
    except ValueError:
        return None


def _is_final(chunk: Any) -> bool:
    """A chunk that ends the answer (a ``finishReason``) and carries the usage."""
    if not isinstance(chunk, Mapping) or not isinstance(chunk.get("usageMetadata"), Mapping):
        return False
    candidates = chunk.get("candidates")
    return isinstance(candidates, list) and any(
        isinstance(c, Mapping) and c.get("finishReason") for c in candidates
    )


def _candidate_texts(candidates: list[Any]) -> Iterable[str]:
    for candidate in candidates:
        content = candidate.get("content") if isinstance(candidate, Mapping) else None
        yield from _part_texts(content)


def _part_texts(content: Any) -> Iterable[str]:
    """Text of a ``Content``: its text parts (thoughts included) and function calls."""
    parts = content.get("parts") if isinstance(content, Mapping) else None
    if isinstance(content, str):
        yield content
    if not isinstance(parts, list):
        return
    for part in parts:
        if not isinstance(part, Mapping):
            continue
        if isinstance(part.get("text"), str):
            yield part["text"]
        for key in ("functionCall", "functionResponse"):
            if isinstance(part.get(key), Mapping):
                yield json.dumps(part[key], ensure_ascii=False, separators=(",", ":"))


class GoogleProvider(Provider):
    """Gemini models at the Gemini API (``"google"``) or Vertex AI (``"vertex"``)."""

    def __init__(self, name: str = "google") -> None:
        self.name = name
        self._anthropic = AnthropicProvider(name)
        self._openai = CompatibleProvider(
            name, inject_usage=False, normalise=normalise_openai_compatible_usage
        )

    def match(self, request: RequestView) -> Endpoint | None:
        if request.method != "POST":
            return None
        path = request.path
        if "/openai/" in path or "/endpoints/openapi/" in path:
            return self._openai.match(request)
        parsed = parse_model_path(path)
        if parsed is None:
            return None
        publisher, model, method = parsed
        if publisher == "anthropic":
            return self._match_anthropic(request, model, method)
        stream = False
        if method in _GENERATE:
            kind, stream = "generate_content", _GENERATE[method]
        elif method in _EMBED or (method == "predict" and "embedding" in model):
            kind = "embeddings"
        elif method in _FREE:
            kind = "count_tokens"
        else:
            return None
        return Endpoint(
            provider=self.name,
            kind=kind,
            handler=self,
            request_model=model,
            stream=stream,
            billable=kind != "count_tokens",
            host=request.host,
        )

    def _match_anthropic(self, request: RequestView, model: str, method: str) -> Endpoint | None:
        if method not in _ANTHROPIC:
            return None
        body = request.json
        if not isinstance(body, Mapping):
            return None
        billable = model != "count-tokens"
        return Endpoint(
            provider=self.name,
            kind="messages" if billable else "count_tokens",
            handler=self._anthropic,
            request_model=model if billable else body.get("model"),
            stream=billable and (_ANTHROPIC[method] or body.get("stream") is True),
            billable=billable,
            host=request.host,
        )

    def reader(self, endpoint: Endpoint) -> UsageReader:
        return GeminiReader(endpoint)

    def estimate_input_tokens(self, endpoint: Endpoint, request: RequestView) -> int:
        body = request.json
        if not isinstance(body, Mapping):
            return 0
        model = endpoint.request_model
        texts: list[str] = []
        for content in _request_contents(body):
            texts.extend(_part_texts(content))
        return sum(count_text_tokens(text, model)[0] for text in texts if text)

    def max_output_tokens(self, endpoint: Endpoint, request: RequestView) -> int | None:
        if endpoint.kind != "generate_content":
            return 0
        body = request.json
        config = body.get("generationConfig") if isinstance(body, Mapping) else None
        value = config.get("maxOutputTokens") if isinstance(config, Mapping) else None
        return value if isinstance(value, int) else None

    def max_output_fields(
        self, endpoint: Endpoint, request: RequestView, value: int
    ) -> dict[str, Any]:
        body = request.json
        config = body.get("generationConfig") if isinstance(body, Mapping) else None
        if endpoint.kind != "generate_content" and not isinstance(config, Mapping):
            return super().max_output_fields(endpoint, request, value)
        settings = dict(config) if isinstance(config, Mapping) else {}
        return {"generationConfig": {**settings, "maxOutputTokens": value}}


def _request_contents(body: Mapping[str, Any]) -> Iterable[Any]:
    """Every ``Content`` of a generate, embed, batch-embed or predict request."""
    yield body.get("systemInstruction")
    contents = body.get("contents")
    if isinstance(contents, list):
        yield from contents
    yield body.get("content")
    for request in body.get("requests") or ():
        if isinstance(request, Mapping):
            yield request.get("content")
    for instance in body.get("instances") or ():
        if isinstance(instance, Mapping):
            yield instance.get("content")
