"""Tracking the ``requests`` sessions built from now on (``patch_all`` for ``requests``).

google-genai 1.0-1.5 build a ``requests.Session`` for every call (1.3-1.5:
sync calls; their async calls go through httpx). A ``Session`` gets its
adapters through ``Session.mount`` (its ``__init__`` mounts one for
``https://`` and one for ``http://``), so patching ``mount`` tracks every
adapter mounted from then on, on new sessions and old ones alike.

``requests`` is optional: nothing here imports it until it is asked to track
sessions, and then only if it is installed.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
from collections.abc import Callable
from typing import Any

from .._core import renew_after_fork
from ._instrument import patch_suppressed
from ._transport import CallSource

__all__ = ["requests_adapter", "track_requests_sessions", "untrack_requests_sessions"]

_lock = threading.Lock()
renew_after_fork(sys.modules[__name__], "_lock", threading.Lock)
_original_mount: list[Callable[..., None]] = []  # Session.mount before patching (0 or 1)
_target: list[CallSource] = []  # the tracker newly mounted adapters report to (0 or 1)


def requests_adapter(tracker: CallSource, inner: Any = None) -> Any:
    """A ``requests`` adapter recording ``tracker``'s calls sent through ``inner``.

    ``inner`` defaults to a new ``requests.adapters.HTTPAdapter``. Mount it
    yourself: ``session.mount("https://", requests_adapter(tracker))``.
    """
    from ._requests_adapter import TrackingAdapter

    if isinstance(inner, TrackingAdapter) and inner.tracker is tracker:
        return inner
    return TrackingAdapter(tracker, inner)


def _tracked_mount(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def mount(self: Any, prefix: str, adapter: Any) -> None:
        target = _target[:1]  # (a copy: unpatching may clear the list meanwhile)
        if target and not patch_suppressed():
            adapter = requests_adapter(target[0], adapter)
        original(self, prefix, adapter)

    return mount


def track_requests_sessions(tracker: CallSource) -> bool:
    """Track, with ``tracker``, every adapter mounted on a ``requests.Session`` from now on.

    Every new ``Session`` is tracked; so is an adapter mounted later on an
    existing one. Calling it again only changes the tracker. Returns
    ``False``, and does nothing, when ``requests`` is not installed.
    """
    if "requests" not in sys.modules and importlib.util.find_spec("requests") is None:
        return False
    import requests

    with _lock:
        _target[:] = [tracker]
        if not _original_mount:
            _original_mount.append(requests.Session.mount)
            requests.Session.mount = _tracked_mount(requests.Session.mount)  # type: ignore[method-assign]
    return True


def untrack_requests_sessions() -> None:
    """Undo :func:`track_requests_sessions`; adapters mounted meanwhile stay tracked."""
    with _lock:
        if _original_mount:
            sys.modules["requests"].Session.mount = _original_mount.pop()
        _target.clear()
