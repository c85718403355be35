"""Shared budget backends by URL: ``budget(backend="redis://...", key=...)``.

A budget's accounts live in this process by default. A backend given as a URL
is built by the factory registered for its scheme with
:func:`register_backend_scheme`; ``tokenbudget.redis`` registers ``redis``,
``rediss`` and ``unix``, and is imported on the first use of one of those
schemes (so the Redis client is only imported for shared budgets). A backend
object that can be rebound to another account (``for_key(key, on_error)``, as
:class:`tokenbudget.redis.RedisBackend` is) gets the budget's ``key`` that way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ._state import BudgetBackend, OnBackendError

__all__ = ["BackendFactory", "register_backend_scheme", "shared_backend"]

#: Builds a shared backend from its URL, the account's key and the outage policy.
BackendFactory = Callable[[str, "str | None", "OnBackendError | None"], BudgetBackend]

_SCHEMES: dict[str, BackendFactory] = {}
#: Schemes whose factory a module of tokenbudget registers when it is imported.
_PROVIDED_BY = {
    "redis": "tokenbudget.redis",
    "rediss": "tokenbudget.redis",
    "unix": "tokenbudget.redis",
}


def register_backend_scheme(scheme: str, factory: BackendFactory) -> None:
    """Make ``budget(backend="SCHEME://...")`` call ``factory(url, key, on_backend_error)``."""
    _SCHEMES[scheme.lower()] = factory


def _factory(scheme: str) -> BackendFactory | None:
    factory = _SCHEMES.get(scheme)
    if factory is None and scheme in _PROVIDED_BY:
        importlib.import_module(_PROVIDED_BY[scheme])  # registers its schemes
        factory = _SCHEMES.get(scheme)
    return factory


def shared_backend(
    backend: Any, *, key: str | None, on_error: OnBackendError | None
) -> BudgetBackend:
    """The backend for ``budget(backend=..., key=..., on_backend_error=...)``."""
    if isinstance(backend, str):
        scheme = backend.split("://", 1)[0].lower() if "://" in backend else ""
        factory = _factory(scheme) if scheme else None
        if factory is None:
            names = [f"{name}://" for name in sorted({*_SCHEMES, *_PROVIDED_BY})]
            known = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
            raise ValueError(
                f"backend={backend!r}: a shared budget's backend is a {known} URL"
                " (or a BudgetBackend object)"
            )
        return factory(backend, key, on_error)
    for_key = getattr(backend, "for_key", None)
    if callable(for_key):
        if key is None and getattr(backend, "key", None) is None:
            raise ValueError("a shared budget needs key=...: give it to budget() or the backend")
        if key is None and on_error is None:
            shared: BudgetBackend = backend
            return shared
        rebound: BudgetBackend = for_key(key, on_error)
        return rebound
    raise TypeError(
        "key= and on_backend_error= apply to shared budgets: pass backend='redis://...' or a"
        " tokenbudget.redis.RedisBackend"
    )
