"""Gemini's ``usageMetadata``, normalised into :class:`~tokenbudget.Usage`.

``promptTokenCount`` includes ``cachedContentTokenCount``;
``toolUsePromptTokenCount`` is more input beside it; ``thoughtsTokenCount`` is
output beside ``candidatesTokenCount``. Audio and image parts come by modality.

Grounding with Google Search is billed per unit, not per token, and the unit
depends on the model generation (Google's pricing page): Gemini 2.x bills each
*grounded prompt*, Gemini 3 each *search query* it ran. An answer names its
queries in ``candidates[].groundingMetadata.webSearchQueries``;
:class:`GroundingCounter` turns them into both units, ``grounded_prompts`` (1
when any query ran) and ``web_search_requests`` (the distinct non-empty
queries: Google ignores empty ones when it counts), and the price data of each
model prices the one it is billed by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._data import Usage, make_usage
from .._figures import UsageFigures

__all__ = ["GroundingCounter", "normalise_gemini_usage"]


def _by_modality(details: Any, name: str, figures: UsageFigures) -> dict[str, int]:
    counts: dict[str, int] = {}
    if isinstance(details, list):
        for item in details:
            if isinstance(item, Mapping) and isinstance(item.get("modality"), str):
                modality = item["modality"].upper()
                tokens = figures.count(item.get("tokenCount"), name, modality)
                counts[modality] = counts.get(modality, 0) + tokens
    return counts


def normalise_gemini_usage(meta: Mapping[str, Any]) -> Usage:
    """Normalise a Gemini ``usageMetadata`` object.

    Every figure goes through the providers' validation boundary
    (:class:`~tokenbudget.providers.UsageFigures`). None is required: Gemini
    leaves out the counts that are zero (a blocked prompt reports no candidates).
    """
    figures = UsageFigures()
    count = figures.count
    thoughts = count(meta.get("thoughtsTokenCount"), "thoughtsTokenCount")
    prompt = _by_modality(meta.get("promptTokensDetails"), "promptTokensDetails", figures)
    tool_use = _by_modality(
        meta.get("toolUsePromptTokensDetails"), "toolUsePromptTokensDetails", figures
    )
    out = _by_modality(meta.get("candidatesTokensDetails"), "candidatesTokensDetails", figures)
    input_tokens = count(meta.get("promptTokenCount"), "promptTokenCount")
    tool_tokens = count(meta.get("toolUsePromptTokenCount"), "toolUsePromptTokenCount")
    candidates = count(meta.get("candidatesTokenCount"), "candidatesTokenCount")
    return figures.usage(
        make_usage(
            input_tokens=input_tokens + tool_tokens,
            output_tokens=candidates + thoughts,
            cached_input_tokens=count(
                meta.get("cachedContentTokenCount"), "cachedContentTokenCount"
            ),
            reasoning_tokens=thoughts,
            audio_input_tokens=prompt.get("AUDIO", 0) + tool_use.get("AUDIO", 0),
            audio_output_tokens=out.get("AUDIO", 0),
            image_input_tokens=prompt.get("IMAGE", 0) + tool_use.get("IMAGE", 0),
            image_output_tokens=out.get("IMAGE", 0),
        )
    )


class GroundingCounter:
    """Collects the Google Search queries of an answer's candidates, chunk by chunk.

    ``feed`` takes each chunk's ``candidates`` (streams may repeat the metadata:
    queries are counted once); ``apply`` adds the billed units to the usage.
    """

    __slots__ = ("_queries",)

    def __init__(self) -> None:
        self._queries: set[str] | None = None

    def feed(self, candidates: Any) -> None:
        """Take the grounding queries of one chunk's ``candidates`` (any shape is safe)."""
        if not isinstance(candidates, list):
            return
        for candidate in candidates:
            if not isinstance(candidate, Mapping) or "groundingMetadata" not in candidate:
                continue
            meta = candidate["groundingMetadata"]
            queries = meta.get("webSearchQueries") if isinstance(meta, Mapping) else None
            if isinstance(queries, list):
                found = {q for q in queries if isinstance(q, str) and q.strip()}
                if found:
                    self._queries = (self._queries or set()) | found

    def units(self) -> dict[str, int]:
        """The billed units seen so far: empty when no search ran."""
        if not self._queries:
            return {}
        return {"grounded_prompts": 1, "web_search_requests": len(self._queries)}

    def apply(self, usage: Usage | None) -> Usage | None:
        """``usage`` with the grounding units added (unchanged when no search ran)."""
        if usage is None or not self._queries:
            return usage
        return usage.with_units(self.units())
