"""Labels attached to the calls made inside a ``with tag(...)`` block."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

__all__ = ["current_tags", "tag", "tags_in_force"]

_EMPTY: Mapping[str, str] = MappingProxyType({})
_tags: ContextVar[Mapping[str, str]] = ContextVar("tokenbudget_tags", default=_EMPTY)


@contextmanager
def tag(**labels: object) -> Iterator[Mapping[str, str]]:
    """Label every call made in this block (and in tasks and copied contexts it starts).

    Blocks nest: inner labels are added to the outer ones and win on a clash.
    Values are stored as strings.

    >>> with tag(feature="search", user_tier="free"):
    ...     ...
    """
    merged = {**_tags.get(), **{name: str(value) for name, value in labels.items()}}
    token = _tags.set(MappingProxyType(merged))
    try:
        yield _tags.get()
    finally:
        _tags.reset(token)


def current_tags() -> Mapping[str, str]:
    """The labels in force in the current context."""
    return _tags.get()


#: :func:`current_tags` with no Python frame of its own (for the per-call path).
tags_in_force: Callable[[], Mapping[str, str]] = _tags.get
