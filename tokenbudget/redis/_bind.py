"""``budget(backend="redis://...", key=...)``: the shared backend a budget's arguments name.

Budgets naming the same URL in one process share one client (one connection
pool) and one view of the server's health.
"""

from __future__ import annotations

import threading
from typing import Any

from ..budgets import BudgetBackend, OnBackendError
from ._backend import RedisBackend
from ._client import connect, safe_url, split_prefix
from ._server import Server

__all__ = ["shared_backend"]

_SCHEMES = ("redis", "rediss", "unix")
_servers: dict[str, Server] = {}
_lock = threading.Lock()


def _server(url: str) -> Server:
    with _lock:
        found = _servers.get(url)
        if found is None:
            found = _servers[url] = Server(connect(url), safe_url(url))
        return found


def shared_backend(
    backend: Any, *, key: str | None, on_error: OnBackendError | None
) -> BudgetBackend:
    """The backend for ``budget(backend=..., key=..., on_backend_error=...)``."""
    if isinstance(backend, str):
        scheme = backend.split("://", 1)[0].lower() if "://" in backend else ""
        if scheme not in _SCHEMES:
            raise ValueError(
                f"backend={backend!r}: a shared budget's backend is a redis://, rediss:// or"
                " unix:// URL (or a BudgetBackend object)"
            )
        if key is None:
            raise ValueError(
                "a shared budget needs key=...: the name of the account every worker shares,"
                " e.g. budget(max_cost_usd=200, per='day', key='team-a:gpt5', backend=...)"
            )
        bare, prefix = split_prefix(backend)  # ?prefix=NAME: the first part of every key
        return RedisBackend(
            key=key, on_error=on_error or "refuse", prefix=prefix, _server=_server(bare)
        )
    if isinstance(backend, RedisBackend):
        if key is None and backend.key is None:
            raise ValueError("a shared budget needs key=...: give it to budget() or RedisBackend")
        if key is None and on_error is None:
            return backend
        return backend.for_key(key, on_error)
    raise TypeError(
        "key= and on_backend_error= apply to shared budgets: pass backend='redis://...' or a"
        " tokenbudget.redis.RedisBackend"
    )
