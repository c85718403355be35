"""Gemini's ``usageMetadata``, normalised into :class:`~tokenbudget.Usage`.

``promptTokenCount`` includes ``cachedContentTokenCount``;
``toolUsePromptTokenCount`` is more input beside it; ``thoughtsTokenCount`` is
output beside ``candidatesTokenCount``. Audio and image parts come by modality.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._data import Usage, make_usage

__all__ = ["normalise_gemini_usage"]


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
