"""Putting tracking transports under existing httpx clients.

Every client instrumented here also gets an early refusal check in its
``build_request`` (:mod:`._early`): budget refusals are raised when a request
is built, before any SDK can wrap or retry them.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any, TypeVar

from ._early import install_early_refusal
from ._families import Family, family_of
from ._transport import CallSource

__all__ = [
    "building_own_client",
    "instrument_beneath",
    "instrument_client",
    "is_instrumented",
    "patch_suppressed",
    "tracked_copy",
    "wrap_transport",
]

C = TypeVar("C")

_building_own: ContextVar[bool] = ContextVar("tokenbudget_building_own_client", default=False)
#: The clients :func:`instrument_client` tracks (by any tracker), held weakly.
_instrumented: weakref.WeakSet[Any] = weakref.WeakSet()


@contextmanager
def building_own_client() -> Iterator[None]:
    """While tokenbudget builds a client itself, ``patch_all`` leaves it alone."""
    token = _building_own.set(True)
    try:
        yield
    finally:
        _building_own.reset(token)


def patch_suppressed() -> bool:
    """True inside :func:`building_own_client`."""
    return _building_own.get()


def wrap_transport(transport: Any, tracker: CallSource, *, is_async: bool) -> Any:
    """``transport`` under tracking by ``tracker`` (unchanged if it already is)."""
    family = family_of(transport)
    cls = family.AsyncTransport if is_async else family.Transport
    if isinstance(transport, cls) and transport.tracker is tracker:
        return transport
    return cls(tracker, transport)


def instrument_client(client: C, tracker: CallSource) -> C:
    """Track every request ``client`` sends, through its transport and its mounts."""
    family = family_of(client)
    is_async = isinstance(client, family.module.AsyncClient)
    anyclient: Any = client
    anyclient._transport = wrap_transport(anyclient._transport, tracker, is_async=is_async)
    anyclient._mounts = {
        pattern: None if mounted is None else wrap_transport(mounted, tracker, is_async=is_async)
        for pattern, mounted in anyclient._mounts.items()
    }
    _refuse_when_built(client, family, is_async)
    with suppress(TypeError):  # a client class that cannot be weakly referenced
        _instrumented.add(client)
    return client


def is_instrumented(client: object) -> bool:
    """True when :func:`instrument_client` put a tracker on ``client`` (its own
    clients, ``tracker.instrument()``, ``patch_all``); not for the pytest plugin's
    tracking beneath (:func:`instrument_beneath`)."""
    try:
        return client in _instrumented
    except TypeError:
        return False


def _refuse_when_built(client: Any, family: Family, is_async: bool) -> None:
    install_early_refusal(client, (family.Transport, family.AsyncTransport), is_async=is_async)


def tracked_copy(http_client: Any, tracker: CallSource) -> Any:
    """A new client of the same family with ``http_client``'s settings and transports, tracked.

    The original client is left as it was; both share its connection pool.
    """
    family = family_of(http_client)
    module = family.module
    is_async = isinstance(http_client, module.AsyncClient)
    cls = module.AsyncClient if is_async else module.Client
    with building_own_client():
        copy = cls(
            auth=http_client.auth,
            params=http_client.params,
            headers=http_client.headers,
            cookies=http_client.cookies,
            timeout=http_client.timeout,
            follow_redirects=http_client.follow_redirects,
            max_redirects=http_client.max_redirects,
            event_hooks=http_client.event_hooks,
            base_url=http_client.base_url,
            trust_env=http_client.trust_env,
            transport=http_client._transport,
        )
    copy._mounts = dict(http_client._mounts)
    # SDKs' own http clients close their transport when collected (``__del__``), which
    # would close the pool the copy shares: the copy keeps the original alive.
    copy._tokenbudget_shares = http_client
    return instrument_client(copy, tracker)


def instrument_beneath(client: Any, tracker: CallSource) -> None:
    """Put ``tracker`` under ``client``'s transports, beneath any tracking already there.

    Where another tracker tracks the client, it stays the outermost one (its
    budgets and requests are as they were) and ``tracker`` goes just above the
    real transport; a client nobody tracks gets ``tracker`` alone. A transport
    of the other family (a fake can be one) is left alone.
    """
    family = family_of(client)
    is_async = isinstance(client, family.module.AsyncClient)

    def beneath(transport: Any) -> Any:
        if not family.is_tracking(transport):
            if family_of(transport) is not family:
                return transport
            return wrap_transport(transport, tracker, is_async=is_async)
        if transport.tracker is not tracker:
            transport.inner = beneath(transport.inner)
        return transport

    client._transport = beneath(client._transport)
    client._mounts = {
        pattern: None if mounted is None else beneath(mounted)
        for pattern, mounted in client._mounts.items()
    }
    _refuse_when_built(client, family, is_async)
