"""``patch_all``'s part for google-genai: async calls through its tracked httpx client.

With aiohttp installed (litellm, pydantic-ai and instructor bring it in),
google-genai 1.21 to 3.x send async calls through aiohttp, which ``patch_all``
cannot see. While patched, each google-genai API client built is told to use
its own async httpx client instead, as it does when aiohttp is not installed;
``patch_all`` tracks that client like any other. The choice sticks to the
client (it was set up for it); clients built before or after are untouched.

google-genai is never imported for this: if it is not imported yet, a finder
on ``sys.meta_path`` patches it the moment it is.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from .._adapters import patch_suppressed
from .._core import renew_after_fork
from ._google import API_MODULE, may_use_aiohttp, rebind_globals
from ._google_loops import keep_a_pool_per_loop, sdk_client_args

__all__ = ["patch_google", "unpatch_google"]

_lock = threading.RLock()
renew_after_fork(sys.modules[__name__], "_lock", threading.RLock)
_undo: list[Callable[[], None]] = []
_owners: set[int] = set()  # ids of who asked (patch_all, the pytest plugin)


def patch_google(owner: object) -> None:
    """Route google-genai's async calls through httpx while ``owner`` asks for it.

    Idempotent per owner; the hook stays until every owner has called
    :func:`unpatch_google`, so ``patch_all`` and the pytest plugin can each
    come and go.
    """
    with _lock:
        _owners.add(id(owner))
        if _undo:
            return
        module = sys.modules.get(API_MODULE)
        if module is not None:
            _patch(module)
        elif _importable("google.genai"):
            finder = _PatchOnImport()
            sys.meta_path.insert(0, finder)
            _undo.append(lambda: _remove(finder))


def unpatch_google(owner: object) -> None:
    """``owner`` no longer asks; with no owner left, undo the hook. Idempotent.

    Clients built meanwhile keep sending through httpx.
    """
    with _lock:
        _owners.discard(id(owner))
        while _undo and not _owners:
            _undo.pop()()


def _patch(module: ModuleType) -> None:
    base: Any = getattr(module, "BaseApiClient", None)
    original = None if base is None else base.__dict__.get("__init__")
    if original is None:
        return

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if not patch_suppressed() and may_use_aiohttp(self):
            client_args = sdk_client_args(self)
            rebind_globals(self, {"has_aiohttp": False})
            if client_args is not None:
                keep_a_pool_per_loop(self._async_httpx_client, client_args)

    base.__init__ = __init__
    _undo.append(lambda: setattr(base, "__init__", original))


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _remove(finder: MetaPathFinder) -> None:
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)


class _PatchOnImport(MetaPathFinder):
    """Finds google-genai's API client module as usual, and patches it once it has run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != API_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader: Any = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            with _lock:
                if self in sys.meta_path:  # still patched
                    _remove(self)
                    _patch(module)

        loader.exec_module = exec_module  # this module's own loader object only
        return spec
