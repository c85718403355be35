"""Per-call cache controls: ``with no_cache():`` and ``with refresh_cache():``.

The controls live in a :class:`~contextvars.ContextVar`, like tags and budgets,
so they follow threads' and asyncio tasks' context and never leak into calls
made elsewhere. Blocks nest; the innermost one that applies to a call wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Literal

__all__ = ["CacheMode", "cache_mode", "no_cache", "refresh_cache"]

#: ``"use"``: look up, store on a miss; ``"bypass"``: neither; ``"refresh"``: store only.
CacheMode = Literal["use", "bypass", "refresh"]

_Scope = tuple[CacheMode, object | None]
_scopes: ContextVar[tuple[_Scope, ...]] = ContextVar("tokenbudget_cache_scopes", default=())


@contextmanager
def _scoped(mode: CacheMode, tracker: object | None) -> Iterator[None]:
    token = _scopes.set((*_scopes.get(), (mode, tracker)))
    try:
        yield
    finally:
        _scopes.reset(token)


def no_cache(*, tracker: object | None = None) -> AbstractContextManager[None]:
    """Calls made in this block neither read nor fill the response cache.

    ``tracker=X`` limits the block to X's calls (``tracker.no_cache()`` does that).

    >>> with no_cache():
    ...     client.chat.completions.create(...)  # doctest: +SKIP
    """
    return _scoped("bypass", tracker)


def refresh_cache(*, tracker: object | None = None) -> AbstractContextManager[None]:
    """Calls made in this block skip the lookup and store their fresh answer.

    The new answer replaces any stored one for the same request.
    ``tracker=X`` limits the block to X's calls (``tracker.refresh_cache()``).
    """
    return _scoped("refresh", tracker)


def cache_mode(tracker: object) -> CacheMode:
    """The control in force for a call recorded by ``tracker``."""
    scopes = _scopes.get()
    if not scopes:  # the usual case: no ``no_cache()`` or ``refresh_cache()`` block
        return "use"
    for mode, target in reversed(scopes):
        if target is None or target is tracker:
            return mode
    return "use"
