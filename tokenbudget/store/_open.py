"""Choosing a store from a string: ``"usage.db"``, ``"sqlite:///path"``, ``"postgresql://..."``.

A plain path (no ``scheme://``) is a SQLite file. URLs pick their store by
scheme; :func:`register_scheme` adds one. ``tokenbudget.redis`` registers
``redis``/``rediss`` (a :class:`tokenbudget.redis.RedisStore`, needing
``tokenbudget[redis]``) and is imported on the first use of one of them.
``postgresql``/``postgres`` open a :class:`~tokenbudget.store.PostgresStore`
(needing ``tokenbudget[postgres]``). ``sqlite:///relative.db`` and
``sqlite:////abs/path.db`` follow SQLAlchemy's spelling; ``sqlite://`` and
``":memory:"`` are in memory.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

from ._base import UsageStore
from ._postgres import PostgresStore
from ._sqlite import SQLiteStore

__all__ = ["StoreFactory", "StoreSpec", "open_store", "register_scheme"]

#: What ``TokenTracker(store=...)`` accepts.
StoreSpec = str | os.PathLike[str] | UsageStore
#: Builds a store from its URL; ``create=False`` must not make a new one.
StoreFactory = Callable[[str, bool], UsageStore]


def _sqlite(url: str, create: bool) -> UsageStore:
    path = url.split("://", 1)[1]
    if path in ("", "/"):
        return SQLiteStore(":memory:")
    return SQLiteStore(path[1:] if path.startswith("/") else path, create=create)


def _postgres(url: str, create: bool) -> UsageStore:
    return PostgresStore(url, create=create)


_SCHEMES: dict[str, StoreFactory] = {
    "sqlite": _sqlite,
    "postgresql": _postgres,
    "postgres": _postgres,
}
#: Schemes whose factory a module of tokenbudget registers when it is imported.
_PROVIDED_BY = {"redis": "tokenbudget.redis", "rediss": "tokenbudget.redis"}


def register_scheme(scheme: str, factory: StoreFactory) -> None:
    """Make ``open_store("SCHEME://...")`` call ``factory(url, create)``."""
    _SCHEMES[scheme.lower()] = factory


def open_store(spec: StoreSpec, *, create: bool = True) -> UsageStore:
    """The store ``spec`` names (a store object is returned as it is).

    Raises ``ValueError`` for an unknown scheme and
    :class:`~tokenbudget.store.StoreError` when the store cannot be opened.
    """
    if isinstance(spec, UsageStore):
        return spec
    text = os.fspath(spec)
    if "://" not in text:
        return SQLiteStore(text, create=create)
    scheme = text.split("://", 1)[0].lower()
    factory = _SCHEMES.get(scheme)
    if factory is None and scheme in _PROVIDED_BY:
        importlib.import_module(_PROVIDED_BY[scheme])  # registers its schemes
        factory = _SCHEMES.get(scheme)
    if factory is not None:
        return factory(text, create)
    known = ", ".join(f"{name}://" for name in sorted({*_SCHEMES, *_PROVIDED_BY}))
    raise ValueError(f"unknown usage store {scheme}://: use a file path or one of: {known}")
