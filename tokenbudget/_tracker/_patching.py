"""``patch_all()``: track every httpx/httpx2 client built in this process."""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .._adapters import (
    available_families,
    instrument_client,
    patch_suppressed,
    track_requests_sessions,
    untrack_requests_sessions,
)
from .._core import renew_after_fork
from ._google_patch import patch_google, unpatch_google
from ._tracker import TokenTracker, get_tracker

__all__ = ["is_patched", "patch_all", "patched", "unpatch_all"]

_lock = threading.RLock()
renew_after_fork(sys.modules[__name__], "_lock", threading.RLock)
_originals: dict[type, Callable[..., None]] = {}
_target: list[TokenTracker] = []  # the tracker patched clients report to (0 or 1 item)


def _patched_init(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if _target and not patch_suppressed():
            instrument_client(self, _target[0])

    __init__.__tokenbudget_original__ = original  # type: ignore[attr-defined]
    return __init__


def patch_all(tracker: TokenTracker | None = None) -> TokenTracker:
    """Track every ``httpx``/``httpx2`` ``Client`` and ``AsyncClient`` built from now on.

    Covers each installed family, the client's transport and its mounts, so any
    SDK that builds its own client is tracked with no further change. Calls go
    to ``tracker``, or to the process-wide default (:func:`get_tracker`).
    Calling it again only changes the target tracker; :func:`unpatch_all`
    restores the classes. Clients built before the call are not affected.
    """
    tracker = tracker if tracker is not None else get_tracker()
    with _lock:
        _target[:] = [tracker]
        for family in available_families():
            for cls in (family.module.Client, family.module.AsyncClient):
                if cls not in _originals:
                    _originals[cls] = cls.__init__
                    cls.__init__ = _patched_init(cls.__init__)
        track_requests_sessions(tracker)  # google-genai 1.0-1.5 send through requests
        patch_google(patch_all)  # google-genai's async calls: its httpx client, not aiohttp
    return tracker


def unpatch_all() -> None:
    """Undo :func:`patch_all`; clients built meanwhile stay tracked. Idempotent."""
    with _lock:
        for cls, original in _originals.items():
            cls.__init__ = original  # type: ignore[misc]
        _originals.clear()
        _target.clear()
        untrack_requests_sessions()
        unpatch_google(patch_all)


def is_patched() -> bool:
    """True between :func:`patch_all` and :func:`unpatch_all`."""
    return bool(_originals)


@contextmanager
def patched(tracker: TokenTracker | None = None) -> Iterator[TokenTracker]:
    """``patch_all`` for the duration of a ``with`` block, restoring the previous state after."""
    with _lock:
        previous = list(_target)
    tracker = patch_all(tracker)
    try:
        yield tracker
    finally:
        if previous:
            patch_all(previous[0])
        else:
            unpatch_all()
