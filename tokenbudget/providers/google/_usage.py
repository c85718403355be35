"""Gemini's ``usageMetadata``, normalised into :class:`~tokenbudget.Usage`.

``promptTokenCount`` includes ``cachedContentTokenCount``;
``toolUsePromptTokenCount`` is more input beside it; ``thoughtsTokenCount`` is
output beside ``candidatesTokenCount``. Audio and image parts come by modality.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._data import Usage, make_usage
from .._figures import UsageFigures

__all__ = ["normalise_gemini_usage"]


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
