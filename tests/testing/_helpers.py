"""Helpers shared by the SDK tests: token counts and sync/async-agnostic calls."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, Iterable
from typing import Any, TypeVar

from tokenbudget.providers import count_text_tokens

T = TypeVar("T")


def tokens(text: str, model: str | None) -> int:
    """The library's token count of ``text``, as the fake counts it."""
    return count_text_tokens(text, model)[0]


async def resolve(value: T | Any) -> Any:
    """``value``, awaited when an async SDK call returned an awaitable."""
    if inspect.isawaitable(value):
        return await value
    return value


async def collect(stream: Iterable[T] | AsyncIterable[T]) -> list[T]:
    """Every item of a sync or async SDK stream."""
    if isinstance(stream, AsyncIterable):
        return [item async for item in stream]
    return list(stream)
