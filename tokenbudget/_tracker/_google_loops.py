"""One async connection pool per event loop for google-genai clients moved off aiohttp.

Pooled connections belong to the event loop that opened them. google-genai's
aiohttp path copes with several loops in most releases (a session per call up to
1.3x, one per loop in late 2.x and 3.x), but its async httpx client before 3.x
keeps one pool for all of them: a client used from one ``asyncio.run()`` after
another then fails with "Event loop is closed". When tokenbudget moves a
client's async calls from aiohttp to that httpx client (to track them),
:func:`keep_a_pool_per_loop` makes it send through one inner client per running
loop instead, built as google-genai built the original and tracked as the
original is, so the client keeps working as it did with aiohttp.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from .._adapters import building_own_client, family_of, instrument_client

__all__ = ["keep_a_pool_per_loop", "sdk_client_args"]


def sdk_client_args(api: Any) -> dict[str, Any] | None:
    """The arguments google-genai built ``api``'s async httpx client with, if it built it.

    ``None`` for a client the caller gave, one with a transport of the caller's,
    3.x's own per-loop client, or arguments that cannot be worked out.
    """
    client = getattr(api, "_async_httpx_client", None)
    if client is None or getattr(client, "_per_loop", False):
        return None
    if getattr(api._http_options, "httpx_async_client", None) is not None:
        return None
    args = _client_args(api)
    if args is None or "transport" in args or "mounts" in args:
        return None
    return args


def keep_a_pool_per_loop(outer: Any, args: dict[str, Any]) -> None:
    """Make ``outer`` send through one client per running event loop, built with ``args``.

    Each inner client is of ``outer``'s family, built with ``args`` (what
    :func:`sdk_client_args` found) and tracked by the trackers ``outer`` has.
    """
    module = family_of(outer).module
    settings = {"follow_redirects": outer.follow_redirects, **args}
    clients: dict[asyncio.AbstractEventLoop, Any] = {}
    lock = threading.Lock()

    def for_this_loop() -> Any:
        loop = asyncio.get_running_loop()
        with lock:
            for closed in [each for each in clients if each.is_closed()]:
                del clients[closed]  # its sockets go with it when collected
            client = clients.get(loop)
            if client is None:
                with building_own_client():
                    client = module.AsyncClient(**settings)
                clients[loop] = _tracked_like(outer, client)
            return client

    async def send(request: Any, **kwargs: Any) -> Any:
        return await for_this_loop().send(request, **kwargs)

    outer.send = send


def _client_args(api: Any) -> dict[str, Any] | None:
    """The keyword arguments google-genai built ``api``'s async httpx client with."""
    args = getattr(api, "_async_httpx_client_args", None)  # kept since 1.46
    if isinstance(args, dict):
        return args
    ensure = getattr(type(api), "_ensure_httpx_ssl_ctx", None)  # 1.11-1.45: work them out again
    try:
        both = ensure(api._http_options)  # type: ignore[misc]
    except Exception:
        return None
    found = both[1] if isinstance(both, tuple) and len(both) == 2 else None
    return found if isinstance(found, dict) else None


def _tracked_like(model: Any, client: Any) -> Any:
    """``client`` under the same trackers as ``model``, in the same order."""
    family = family_of(model)
    trackers = []
    transport = model._transport
    while family.is_tracking(transport):
        trackers.append(transport.tracker)
        transport = transport.inner
    for tracker in reversed(trackers):
        instrument_client(client, tracker)
    return client
