"""Reading Gemini answers: a JSON body, a JSON array of chunks, or SSE chunks.

Streams repeat *cumulative* ``usageMetadata`` in their chunks, so the last one
wins; a chunk whose candidate has a ``finishReason`` ends the answer. Vertex
``:predict`` embeddings report ``predictions[].embeddings.statistics.token_count``.
The tier served is ``usageMetadata.serviceTier`` (Gemini API) or
``usageMetadata.trafficType`` (Vertex AI); see :func:`gemini_service_tier`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..._core import Endpoint, Observation, ServerSentEvent, UsageReader
from ..._data import Usage
from .._base import DEFER_LIMIT
from .._figures import UsageFigures
from ._content import candidate_texts
from ._usage import GroundingCounter, normalise_gemini_usage

__all__ = ["GeminiReader", "gemini_service_tier"]

# Vertex AI ``trafficType`` values that name a priced tier; the rest are standard PayGo.
_TRAFFIC = {"ON_DEMAND_FLEX": "flex", "ON_DEMAND_PRIORITY": "priority", "ON_DEMAND": "standard"}


def gemini_service_tier(value: Any) -> str | None:
    """The price tier of a Gemini ``serviceTier`` or Vertex ``trafficType`` value.

    ``"flex"``, ``"SERVICE_TIER_FLEX"`` and ``"ON_DEMAND_FLEX"`` all mean ``"flex"``;
    ``"standard"``, ``"unspecified"`` and ``"ON_DEMAND"`` mean ``"standard"``.
    ``None`` for anything that is not a non-empty string.
    """
    if not isinstance(value, str) or not value:
        return None
    name = value.strip()
    found = _TRAFFIC.get(name.upper())
    if found is not None:
        return found
    name = name.lower().removeprefix("service_tier_")
    return "standard" if name == "unspecified" else name


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
        self._grounding = GroundingCounter()
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
        if self._pending_size + len(data) > DEFER_LIMIT:
            self._flush()
        self._pending.append(data)
        self._pending_size += len(data)

    def result(self) -> Observation:
        obs = self.observation
        pending = self._pending
        if pending and obs.error is None:
            last = _loads(pending[-1])
            if _is_final(last):
                self._on_chunk(last)
                usage = obs.usage
                if usage is not None and not usage.estimated:
                    self._pending, self._pending_size = [], 0
                    obs.output_text.clear()
                    obs.usage = self._grounding.apply(usage)
                    return obs
                obs.output_text.clear()  # invalid figures: count every chunk
        self._flush()
        obs.usage = self._grounding.apply(obs.usage)
        return obs

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
            tier = gemini_service_tier(meta.get("serviceTier") or meta.get("trafficType"))
            if tier is not None:
                obs.service_tier = tier
        elif isinstance(chunk.get("predictions"), list):
            self._on_predictions(chunk["predictions"])
        candidates = chunk.get("candidates")
        if isinstance(candidates, list):
            self._grounding.feed(candidates)  # Google Search queries, billed per unit
            # Cumulative usage can be cut short with the stream: keep the text to count.
            obs.output_text.extend(candidate_texts(candidates))
            if any(isinstance(c, Mapping) and c.get("finishReason") for c in candidates):
                obs.complete = True
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, Mapping) and feedback.get("blockReason"):
            obs.complete = True
        if obs.complete and obs.usage is not None and not obs.usage.estimated:
            obs.output_text.clear()

    def _on_predictions(self, predictions: list[Any]) -> None:
        """Vertex ``:predict`` embeddings: each prediction reports its own token count."""
        total, found, figures = 0, False, UsageFigures()
        for prediction in predictions:
            embeddings = prediction.get("embeddings") if isinstance(prediction, Mapping) else None
            stats = embeddings.get("statistics") if isinstance(embeddings, Mapping) else None
            if isinstance(stats, Mapping) and "token_count" in stats:
                found = True
                total += _token_count(stats["token_count"], figures)
        if found:
            self.observation.usage = figures.usage(Usage(input_tokens=total))
            self.observation.raw_usage = {"token_count": total}


def _token_count(value: Any, figures: UsageFigures) -> int:
    """A ``token_count`` of Vertex embeddings statistics: an int, or a float with no fraction."""
    if type(value) is float and value.is_integer():  # Vertex sends these as JSON doubles
        value = int(value)
    return figures.count(value, "statistics.token_count")


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
