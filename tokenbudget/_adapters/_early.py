"""Refusals decided when a request is built, where no SDK can wrap or retry them.

A budget refusal raised by the tracking transport is raised inside the SDK's
``send``, and what an SDK does with an exception from there differs across
generations: openai up to 1.x and anthropic 0.x retry it with sleeps and then
raise their ``APIConnectionError``; anthropic 1.x/2.x do the same to anything
that is not an ``AnthropicError``. Every Stainless SDK (openai 1.40 to 3.x,
anthropic 0.40 to 2.x) builds its request with ``self._client.build_request(...)``
*outside* that ``try`` (anthropic 1.x: inside a retry loop whose handler
re-raises anything that is neither a connection nor a status error), and
httpx's own ``Client.request``/``stream`` (google-genai, plain httpx users)
build with ``self.build_request`` too. An exception raised there reaches the
caller as it is, at once, on every generation.

So every client tokenbudget instruments gets an instance-level
``build_request`` (:func:`install_early_refusal`) once the process has a budget
or a tracker that refuses without one (:func:`arm_early_refusal`; until then no
code of this module runs when a request is built): after the client's own, it
finds the transport that will carry the request; when that is a tracking
transport whose tracker may refuse calls in this context (one cheap check,
``tracker.may_refuse()``: without budgets nothing else runs), it begins an
exchange for the request and asks the exchange's tracker to
``refuse_early(exchange)``: a dry run of its budgets that raises the refusal
``admit`` would raise, holding nothing (a built request may never be sent). A
call the cache may answer is never refused (a hit is free).

The transport still admits for real when the request is sent: a call let
through here can still be refused there, when concurrent calls took the room
between building and sending. On SDKs that wrap exceptions from ``send`` that
rare race reaches the caller after one SDK retry: the retry rebuilds the
request, and the early check refuses it.

The exchange built here is not handed to the transport: the dry run may have
changed it (a clamping budget's lowered ceiling), its clock started at build
time, and one that was never sent would have to be released. Only calls under
a budget pay for the second match.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from .._core import logger, renew_after_fork, warn_once
from .._data import TokenBudgetError
from ..budgets import when_budgets_exist
from ._transport import CallSource, request_view

__all__ = ["arm_early_refusal", "install_early_refusal"]

#: Set on the ``build_request`` wrappers installed here, so a client is wrapped once.
_MARK = "__tokenbudget_early__"

_lock = threading.Lock()
renew_after_fork(sys.modules[__name__], "_lock", threading.Lock)
#: True once a call may be refused in this process (:func:`arm_early_refusal`).
_armed = False
#: Clients instrumented before that, each with its tracking classes and whether it is async.
_waiting: weakref.WeakKeyDictionary[Any, tuple[tuple[type, ...], bool]]
_waiting = weakref.WeakKeyDictionary()


def install_early_refusal(client: Any, tracking: tuple[type, ...], *, is_async: bool) -> None:
    """Make ``client.build_request`` raise the refusal a request's budgets would give it.

    ``tracking`` are the tracking transport classes of the client's family.
    Idempotent: a client already wrapped is left as it is. Before the process
    can refuse a call (:func:`arm_early_refusal`), the client waits for it,
    wrapped by nothing.
    """
    if not _armed:
        with _lock:
            if not _armed:
                try:
                    _waiting[client] = (tracking, is_async)
                    return
                except TypeError:  # a client class that cannot be weakly referenced: now
                    pass
    _install(client, tracking, is_async)


def arm_early_refusal() -> None:
    """From now on calls may be refused: every client instrumented so far, and every one
    from now on, refuses early. Run when the process makes its first budget, and by
    trackers that may refuse without one (a subclass with its own ``may_refuse``)."""
    global _armed
    with _lock:
        if _armed:
            return
        _armed = True
        waiting = list(_waiting.items())
        _waiting.clear()
    for client, (tracking, is_async) in waiting:
        _install(client, tracking, is_async)


when_budgets_exist(arm_early_refusal)


def _install(client: Any, tracking: tuple[type, ...], is_async: bool) -> None:
    own = vars(client).get("build_request")
    if own is not None and getattr(own, _MARK, False):
        return
    client.build_request = _build_request(client, own, tracking, is_async)


def _build_request(
    client: Any, own: Callable[..., Any] | None, tracking: tuple[type, ...], is_async: bool
) -> Callable[..., Any]:
    """The wrapper: ``own`` (an instance-level ``build_request`` found there) or the class's,
    then the early check. The client is held weakly: no cycle through its own ``__dict__``."""
    ref = weakref.ref(client)

    def build_request(*args: Any, **kwargs: Any) -> Any:
        this = ref()
        if this is None:
            raise ReferenceError("the httpx client of this build_request was garbage-collected")
        request = (
            own(*args, **kwargs)
            if own is not None
            else type(this).build_request(this, *args, **kwargs)
        )
        # The transport that will carry it (no mounts, the usual case: the client's own).
        transport = this._transport_for_url(request.url) if this._mounts else this._transport
        if isinstance(transport, tracking):
            source: Any = transport.tracker  # type: ignore[attr-defined]
            may_refuse = getattr(source, "may_refuse", None)
            if may_refuse is not None and may_refuse():
                _refuse_early(source, request, is_async)
        return request

    setattr(build_request, _MARK, True)
    return build_request


def _refuse_early(source: CallSource, request: Any, is_async: bool) -> None:
    """Raise the refusal of ``request``'s exchange, if its tracker would refuse it now.

    Anything else that goes wrong here is logged once and leaves the decision
    to the transport: building a request never fails because of tokenbudget.
    """
    try:
        exchange = source.begin(request_view(request, None, is_async))
        if exchange is None:
            return
        refuse = getattr(exchange.owner, "refuse_early", None)
        if refuse is not None:
            refuse(exchange)
    except TokenBudgetError:
        raise
    except Exception:
        warn_once("early-refusal", "tokenbudget: the early budget check failed; see debug log")
        logger.debug("early budget check failure", exc_info=True)
