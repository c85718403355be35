"""Redis by URL: ``budget(backend="redis://...", key=...)`` and ``store="redis://..."``.

Registered with ``tokenbudget.budgets.register_backend_scheme`` (``redis``,
``rediss``, ``unix``) and ``tokenbudget.store.register_scheme`` (``redis``,
``rediss``) when this package is imported.
Budgets naming the same URL in one process share one client (one connection
pool) and one view of the server's health.
"""

from __future__ import annotations

import sys
import threading

from .._core import renew_after_fork
from ..budgets import BudgetBackend, OnBackendError, register_backend_scheme
from ..store import UsageStore, register_scheme
from ._backend import RedisBackend
from ._client import connect, safe_url, split_prefix
from ._server import Server
from ._store import RedisStore

__all__ = ["SCHEMES", "STORE_SCHEMES", "backend_from_url", "register_schemes", "store_from_url"]

#: The URL schemes of a Redis server.
SCHEMES = ("redis", "rediss", "unix")
#: The schemes a usage store URL may use.
STORE_SCHEMES = ("redis", "rediss")
_servers: dict[str, Server] = {}
_lock = threading.Lock()
renew_after_fork(sys.modules[__name__], "_lock", threading.Lock)


def _server(url: str) -> Server:
    with _lock:
        found = _servers.get(url)
        if found is None:
            found = _servers[url] = Server(connect(url), safe_url(url))
        return found


def backend_from_url(url: str, key: str | None, on_error: OnBackendError | None) -> BudgetBackend:
    """The shared backend of ``budget(backend=url, key=key, on_backend_error=on_error)``."""
    if key is None:
        raise ValueError(
            "a shared budget needs key=...: the name of the account every worker shares,"
            " e.g. budget(max_cost_usd=200, per='day', key='team-a:gpt5', backend=...)"
        )
    bare, prefix = split_prefix(url)  # ?prefix=NAME: the first part of every key
    return RedisBackend(
        key=key, on_error=on_error or "refuse", prefix=prefix, _server=_server(bare)
    )


def store_from_url(url: str, create: bool) -> UsageStore:
    """The usage store of ``TokenTracker(store=url)`` (``?prefix=NAME`` picks the key prefix)."""
    return RedisStore.from_url(url, create=create)


def register_schemes() -> None:
    """Let ``budget(backend=...)`` and ``TokenTracker(store=...)`` open Redis URLs."""
    for scheme in SCHEMES:
        register_backend_scheme(scheme, backend_from_url)
    for scheme in STORE_SCHEMES:
        register_scheme(scheme, store_from_url)
