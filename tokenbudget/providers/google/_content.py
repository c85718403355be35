"""The text of Gemini ``Content`` objects, in requests (to estimate) and answers (to count)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["candidate_texts", "part_texts", "request_contents"]


def part_texts(content: Any) -> Iterable[str]:
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


def candidate_texts(candidates: list[Any]) -> Iterable[str]:
    """Text of an answer's candidates."""
    for candidate in candidates:
        content = candidate.get("content") if isinstance(candidate, Mapping) else None
        yield from part_texts(content)


def request_contents(body: Mapping[str, Any]) -> Iterable[Any]:
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
