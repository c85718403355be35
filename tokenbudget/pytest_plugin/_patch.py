"""The plugin's own hold on client construction, independent of ``patch_all``.

The plugin must see every LLM call of the session whatever the code under
test does with tracking itself, so it does not borrow ``patch_all`` (which
has one target, that the code under test may move with its own
``patch_all(app_tracker)`` or remove with ``unpatch_all()``). It wraps the
``__init__`` of every installed httpx/httpx2 ``Client`` and ``AsyncClient``
once more, like ``patch_all`` does, and puts the session tracker under each
client built while it is active, clients that a ``TokenTracker`` builds for
itself (``tracker.httpx_client()``) included.

Under, not over: where the code under test tracks a client itself (``patch_all``,
``tracker.httpx_client()``, a client built on ``tracker.transport()``), its
tracker stays the outermost one, so its budgets are decided by it, with its
prices, as without the plugin; the session tracker goes just above the real
transport and only records (a budget held further out is not held again,
``tokenbudget.budgets.hold``). A client nobody else tracks gets the session
tracker alone. The session tracker gives each call to the running test (see
``_trackers``). When the plugin stops, the wrapper is removed if it
is still the outermost one, and otherwise left in place inactive (another
wrapper, e.g. ``patch_all``'s, holds it as its original).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from .._adapters import CallSource, available_families, instrument_beneath
from .._tracker import patch_google, unpatch_google

__all__ = ["ClientPatch"]

logger = logging.getLogger("tokenbudget")

Init = Callable[..., None]


class ClientPatch:
    """Puts ``tracker`` under every httpx/httpx2 client built while it is installed."""

    def __init__(self, tracker: CallSource) -> None:
        self.tracker = tracker
        self.active = False
        self._installed: dict[type, tuple[Init, Init]] = {}

    def install(self) -> None:
        """Wrap the client classes' ``__init__`` (idempotent)."""
        if self.active:
            return
        self.active = True
        for family in available_families():
            for cls in (family.module.Client, family.module.AsyncClient):
                original: Init = cls.__init__
                wrapper = self._wrap(original)
                cls.__init__ = wrapper
                self._installed[cls] = (original, wrapper)
        patch_google(self)  # google-genai's async calls through its httpx client, not aiohttp

    def _wrap(self, original: Init) -> Init:
        patch = self

        @functools.wraps(original)
        def __init__(client: Any, *args: Any, **kwargs: Any) -> None:
            original(client, *args, **kwargs)
            if patch.active:
                try:
                    patch.track(client)
                except Exception:  # never break building a client: leave it untracked
                    logger.debug("tokenbudget: could not track a client", exc_info=True)

        return __init__

    def track(self, client: Any) -> None:
        """Put the tracker under ``client``'s transport and mounts (beneath other trackers)."""
        instrument_beneath(client, self.tracker)

    def remove(self) -> None:
        """Stop tracking new clients; unwrap the classes where nothing wrapped them since."""
        self.active = False
        unpatch_google(self)
        for cls, (original, wrapper) in self._installed.items():
            if cls.__init__ is wrapper:  # type: ignore[misc]
                cls.__init__ = original  # type: ignore[misc]
        self._installed.clear()
