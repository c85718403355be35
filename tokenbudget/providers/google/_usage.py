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

from ..._data import MAX_TOKENS, Usage, make_usage
from .._figures import UsageFigures

__all__ = ["GroundingCounter", "normalise_gemini_usage"]

_NO_COUNTS: dict[str, int] = {}  # read only: no tokens by modality


def _by_modality(details: Any, name: str, figures: UsageFigures) -> dict[str, int]:
    counts: dict[str, int] = {}
    if isinstance(details, list):
        for item in details:
            if isinstance(item, Mapping) and isinstance(item.get("modality"), str):
                modality = item["modality"].upper()
                tokens = figures.count(item.get("tokenCount"), name, modality)
                counts[modality] = counts.get(modality, 0) + tokens
    return counts


def _plain_modalities(details: Any) -> dict[str, int] | None:
    """Tokens by modality of a details list whose entries are all plain (a string
    modality, an int count in range); ``None`` for anything else."""
    if details is None:
        return _NO_COUNTS
    if type(details) is not list:
        return None
    counts: dict[str, int] = {}
    for item in details:
        modality = item.get("modality") if type(item) is dict else None
        tokens = item.get("tokenCount", 0) if modality is not None else None
        if type(modality) is not str or type(tokens) is not int or not 0 <= tokens <= MAX_TOKENS:
            return None
        modality = modality.upper()
        counts[modality] = counts.get(modality, 0) + tokens
    return counts


def normalise_gemini_usage(meta: Mapping[str, Any]) -> Usage:
    """Normalise a Gemini ``usageMetadata`` object.

    Every figure goes through the providers' validation boundary
    (:class:`~tokenbudget.providers.UsageFigures`). None is required: Gemini
    leaves out the counts that are zero (a blocked prompt reports no candidates).
    """
    get = meta.get
    # The usual report, read straight into its Usage: every figure a plain int in
    # range, every modality entry plain. Anything else goes through UsageFigures.
    prompt = _plain_modalities(get("promptTokensDetails"))
    tool_use = _plain_modalities(get("toolUsePromptTokensDetails"))
    out = _plain_modalities(get("candidatesTokensDetails"))
    if prompt is not None and tool_use is not None and out is not None:
        input_tokens = get("promptTokenCount", 0)
        tool_tokens = get("toolUsePromptTokenCount", 0)
        candidates = get("candidatesTokenCount", 0)
        thoughts = get("thoughtsTokenCount", 0)
        cached = get("cachedContentTokenCount", 0)
        if (
            type(input_tokens) is type(tool_tokens) is type(candidates) is int
            and type(thoughts) is type(cached) is int
            # ints: a bitwise or is negative if one of them is; the sums have a ceiling
            and (input_tokens | tool_tokens | candidates | thoughts | cached) >= 0
            and cached <= MAX_TOKENS
            and input_tokens + tool_tokens <= MAX_TOKENS
            and candidates + thoughts <= MAX_TOKENS
        ):
            return make_usage(
                input_tokens=input_tokens + tool_tokens,
                output_tokens=candidates + thoughts,
                cached_input_tokens=cached,
                reasoning_tokens=thoughts,
                audio_input_tokens=prompt.get("AUDIO", 0) + tool_use.get("AUDIO", 0),
                audio_output_tokens=out.get("AUDIO", 0),
                image_input_tokens=prompt.get("IMAGE", 0) + tool_use.get("IMAGE", 0),
                image_output_tokens=out.get("IMAGE", 0),
            )
    return _read_figures(meta)


def _read_figures(meta: Mapping[str, Any]) -> Usage:
    """The general path: each figure through :class:`UsageFigures`."""
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
