"""``tracker.wrap_google``: a tracked copy of a google-genai client, on every generation.

google-genai has sent its requests in several ways (read from each release's
``_api_client.py``; :func:`google_transport_kind` draws the line by version):

- 1.0-1.5, ``"requests"``: sync calls through ``requests``; not handled here.
- 1.6, ``"httpx-per-call"``: a new ``httpx.Client``/``AsyncClient`` for every call.
  The copy's own methods are given an ``httpx`` whose clients are tracked.
- 1.7 on, ``"httpx"``: httpx clients kept on ``_api_client``. From 1.46 they can be
  supplied as ``HttpOptions.httpx_client``/``httpx_async_client``: the copy gets
  tracked copies of the original's there. Before, the copy builds its own and
  they are tracked in place.
- 1.21 on, with aiohttp installed, async calls go through aiohttp instead (1.46
  even when given ``httpx_async_client``). The copy's methods then see
  ``has_aiohttp = False``, as if aiohttp were not installed, and use their tracked
  httpx client, with one connection pool per event loop (``_google_loops``).

The copy is built from the original's settings (api key, Vertex AI project,
location and credentials, ``http_options`` with base URL, headers, timeout,
retries, client args); the original is never changed.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any, TypeVar

from .._adapters import (
    CallSource,
    building_own_client,
    google_transport_kind,
    installed_version,
    instrument_client,
    parse_version,
    tracked_copy,
)
from .._core import warn_once
from ._google_loops import keep_a_pool_per_loop, sdk_client_args

__all__ = ["API_MODULE", "may_use_aiohttp", "rebind_globals", "wrap_google_client"]

C = TypeVar("C")

#: The module whose functions decide how google-genai sends.
API_MODULE = "google.genai._api_client"


def wrap_google_client(client: C, source: CallSource) -> C:
    """A copy of the google-genai ``client`` whose calls, sync and ``.aio``, ``source`` tracks."""
    sdk: Any = client
    api = getattr(sdk, "_api_client", None)
    if api is None or not hasattr(api, "_http_options"):
        raise TypeError(f"expected a google.genai.Client, got {type(client).__name__}")
    version = _google_version()
    kind = google_transport_kind(version)
    if kind == "requests":
        raise TypeError(
            f"tokenbudget: google-genai {'.'.join(map(str, version))} sends through "
            "`requests`, a new session per call, which no copy of one client can reach: "
            "track it with tokenbudget.patch_all(tracker), or upgrade to google-genai >= 1.6"
        )
    # Where the original sends async calls by aiohttp, the copy keeps its one pool per loop.
    pool_args = sdk_client_args(api) if may_use_aiohttp(api) else None
    options = _copy_options(api._http_options)
    supplied = kind == "httpx" and "httpx_client" in getattr(type(options), "model_fields", {})
    if supplied:
        options.httpx_client = tracked_copy(api._httpx_client, source)
        if api._async_httpx_client is not None:
            options.httpx_async_client = _tracked_async_copy(api._async_httpx_client, source)
    copy: Any = _rebuild(sdk, api, options)
    copied = copy._api_client
    overrides: dict[str, Any] = {}
    if kind == "httpx-per-call":
        overrides["httpx"] = _PerCallClients(sys.modules[API_MODULE].httpx, source)
    elif not supplied:
        instrument_client(copied._httpx_client, source)
        instrument_client(copied._async_httpx_client, source)
    if may_use_aiohttp(copied):
        overrides["has_aiohttp"] = False
    if overrides:
        rebind_globals(copied, overrides)
    if pool_args is not None:
        keep_a_pool_per_loop(copied._async_httpx_client, pool_args)
    wrapped: C = copy
    return wrapped


def _tracked_async_copy(client: Any, source: CallSource) -> Any:
    """A tracked copy of an async http client, one connection pool per event loop if it had.

    google-genai 3.x's async client sends through one inner client per running
    loop (pooled connections are bound to their loop); the copy is one of the
    same kind whose inner clients are tracked. Any other client: :func:`tracked_copy`.
    """
    kwargs = getattr(client, "_client_kwargs", None)
    inner = getattr(type(client), "_inner_client_cls", None)
    if not (getattr(client, "_per_loop", False) and isinstance(kwargs, dict) and inner):
        return tracked_copy(client, source)
    with building_own_client():
        copy = type(client)(**kwargs)
    copy._inner_client_cls = _Tracked(inner, source)
    return copy


def _google_version() -> tuple[int, ...]:
    version = installed_version("google-genai")
    if version is not None:
        return version
    module = sys.modules.get("google.genai")
    return parse_version(str(getattr(module, "__version__", "0")))


def _copy_options(options: Any) -> Any:
    """A copy of a client's ``http_options``: a pydantic model, or a dict before 1.8."""
    if isinstance(options, dict):
        return {**options, "headers": dict(options.get("headers") or {})}
    return options.model_copy()


def _rebuild(client: Any, api: Any, options: Any) -> Any:
    """A new client of ``client``'s class with ``api``'s settings and ``options``."""
    settings: dict[str, Any] = {
        "vertexai": api.vertexai,
        "api_key": api.api_key,
        "credentials": api._credentials,
        "project": api.project,
        "location": api.location,
        "http_options": options,
    }
    debug_config = getattr(client, "_debug_config", None)
    if debug_config is not None:
        settings["debug_config"] = debug_config
    with building_own_client():  # patch_all leaves the copy's clients to wrap_google
        return type(client)(**settings)


def may_use_aiohttp(api: Any) -> bool:
    """True when ``api``'s async calls would go through aiohttp instead of httpx."""
    module = sys.modules.get(API_MODULE)
    if module is None or not getattr(module, "has_aiohttp", False):
        return False
    if getattr(api, "_async_httpx_client", None) is None:
        # 3.x on Vertex AI with mTLS: google-auth's own aiohttp session, no httpx client.
        warn_once(
            "google-aiohttp-auth",
            "tokenbudget: this google-genai client sends async calls through google-auth's "
            "aiohttp session (Vertex AI with mTLS); they are not tracked",
        )
        return False
    use_aiohttp = getattr(api, "_use_aiohttp", None)
    return use_aiohttp is None or bool(use_aiohttp())


def rebind_globals(obj: Any, overrides: dict[str, Any]) -> None:
    """Make ``obj``'s own methods see ``overrides`` in place of their module's globals.

    Each method of ``obj``'s class whose code reads one of those names is copied
    with a globals mapping that has them, and set on ``obj`` alone: the class,
    the module and every other instance are unchanged. Old google-genai
    releases decide how to send by module globals (``httpx``, ``has_aiohttp``)
    that no option reaches; this is how a copy decides differently.
    """
    seen: set[str] = set()
    for cls in type(obj).__mro__:
        for name, value in vars(cls).items():
            if name in seen or name.startswith("__"):
                continue
            seen.add(name)
            if not isinstance(value, types.FunctionType):
                continue
            if overrides.keys().isdisjoint(_global_names(value.__code__)):
                continue
            function = types.FunctionType(
                value.__code__,
                {**value.__globals__, **overrides},
                value.__name__,
                value.__defaults__,
                value.__closure__,
            )
            function.__kwdefaults__ = value.__kwdefaults__
            function.__qualname__ = value.__qualname__
            setattr(obj, name, types.MethodType(function, obj))


def _global_names(code: types.CodeType) -> Iterator[str]:
    """Every name ``code`` (and the functions, lambdas and comprehensions in it) may read."""
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _global_names(constant)


class _Tracked:
    """Builds clients of ``cls`` that ``source`` tracks (and ``patch_all`` leaves alone)."""

    def __init__(self, cls: Any, source: CallSource) -> None:
        self._cls = cls
        self._source = source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with building_own_client():
            client = self._cls(*args, **kwargs)
        return instrument_client(client, self._source)


class _PerCallClients:
    """Stands in for the ``httpx`` module in google-genai 1.6's methods: its clients are tracked.

    google-genai 1.6 builds a new ``httpx.Client()`` (or ``AsyncClient()``) for
    every call; through this, each one is built as asked and then tracked.
    Every other name is the real module's.
    """

    def __init__(self, module: Any, source: CallSource) -> None:
        self._module = module
        self.Client = _Tracked(module.Client, source)
        self.AsyncClient = _Tracked(module.AsyncClient, source)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)
