"""Which provider, if any, tracks a request: lookups by host, then by path.

Hosts are matched exactly (``api.openai.com``, ``localhost:8000``) or by
suffix (``.openai.azure.com``). A request to a host no provider claims goes to
the fallback providers (:meth:`ProviderRegistry.register_fallback`), which
look at its method, path and headers only; when none claims it, it is passed
through untouched, without its body ever being read.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from typing import Any

from .._core import Endpoint, RequestView, renew_after_fork
from ._base import Provider

__all__ = ["ProviderRegistry", "default_registry"]

_HOST_CACHE_LIMIT = 4096

#: Every registration anywhere takes the next number: a host cache filled under an
#: older one may miss a change in its registry or a parent, and is emptied.
_changes = itertools.count(1)
_generation = 0


class ProviderRegistry:
    """Maps hosts to providers; thread-safe; host lookups are cached.

    A layered registry (one with a parent) caches the lookups it answers from
    its parent too; any registration in any registry empties the caches.
    """

    def __init__(self, parent: ProviderRegistry | None = None) -> None:
        self._parent = parent
        self._lock = threading.Lock()
        renew_after_fork(self, "_lock", threading.Lock)
        self._exact: dict[str, Provider] = {}
        self._suffixes: list[tuple[str, Provider]] = []
        self._named: dict[str, Provider] = {}
        self._fallbacks: list[Provider] = []
        self._cache: dict[str, Provider | None] = {}
        self._cached_at = 0  # the registration generation ``_cache`` was filled under

    def register(
        self,
        provider: Provider,
        *,
        hosts: Iterable[str] = (),
        host_suffixes: Iterable[str] = (),
    ) -> Provider:
        """Track ``hosts`` (``host`` or ``host:port``) and ``*host_suffixes`` with ``provider``.

        Later registrations win over earlier ones for the same host.
        """
        with self._lock:
            for host in hosts:
                self._exact[host.lower()] = provider
            for suffix in host_suffixes:
                self._suffixes.insert(0, (suffix.lower(), provider))
            self._named.setdefault(provider.name, provider)
            _changed()
        return provider

    def register_fallback(self, provider: Provider) -> Provider:
        """Ask ``provider`` about requests to hosts that no registry here or above claims.

        Fallbacks are tried after every host lookup failed, latest first, this
        registry's before its parent's. A fallback's ``match`` must decide from the
        method, path and headers before it reads a body.
        """
        with self._lock:
            self._fallbacks.insert(0, provider)
            self._named.setdefault(provider.name, provider)
        return provider

    def fallbacks(self) -> list[Provider]:
        """The fallback providers, in the order they are tried."""
        parent = self._parent.fallbacks() if self._parent is not None else []
        return [*self._fallbacks, *parent]

    def provider_named(self, name: str) -> Provider | None:
        """The first provider registered under ``name``, here or in the parent."""
        found = self._named.get(name)
        if found is None and self._parent is not None:
            return self._parent.provider_named(name)
        return found

    def names(self) -> list[str]:
        """The names of the providers registered here or in the parent, sorted."""
        parent = self._parent.names() if self._parent is not None else []
        return sorted({*self._named, *parent})

    def for_host(self, host: str, port: int | None = None) -> Provider | None:
        """The provider for ``host`` (and ``port``), or ``None``."""
        key = f"{host}:{port}" if port else host
        generation = _generation
        if self._cached_at == generation:
            cached = self._cache.get(key, _MISSING)
            if cached is not _MISSING:
                return cached  # type: ignore[no-any-return]
        provider = self._own(host, port)
        if provider is None and self._parent is not None:
            provider = self._parent.for_host(host, port)
        with self._lock:
            # Filled under ``generation``: a registration since then empties it at the next lookup.
            if self._cached_at != generation or len(self._cache) >= _HOST_CACHE_LIMIT:
                self._cache.clear()
                self._cached_at = generation
            self._cache[key] = provider
        return provider

    def _own(self, host: str, port: int | None) -> Provider | None:
        """The provider registered here (not in the parent) for ``host``."""
        provider = self._exact.get(f"{host}:{port}" if port else host) or self._exact.get(host)
        if provider is None:
            for suffix, candidate in self._suffixes:
                if host.endswith(suffix):
                    return candidate
        return provider

    def match(self, request: RequestView) -> Endpoint | None:
        """The endpoint ``request`` is for, or ``None`` to pass it through."""
        host, port = request.host, request.port
        # The host cache read here (for_host's first steps): one call less per request.
        cached = (
            self._cache.get(f"{host}:{port}" if port else host, _MISSING)
            if self._cached_at == _generation
            else _MISSING
        )
        provider = self.for_host(host, port) if cached is _MISSING else cached
        if provider is not None:
            return provider.match(request)
        for fallback in self.fallbacks():
            endpoint = fallback.match(request)
            if endpoint is not None:
                return endpoint
        return None


_MISSING: Any = object()


def _changed() -> None:
    """A registration happened: every registry's host cache is stale from now on."""
    global _generation
    _generation = next(_changes)


def _build_default() -> ProviderRegistry:
    from ._anyhost import register_any_host
    from .anthropic import AnthropicProvider
    from .compatible import register_compatible_hosts
    from .google import VERTEX_HOST_SUFFIXES, VERTEX_HOSTS, GoogleProvider
    from .openai import OpenAIProvider

    registry = ProviderRegistry()
    registry.register(OpenAIProvider("openai"), hosts=["api.openai.com"])
    registry.register(
        OpenAIProvider("azure"),
        host_suffixes=[
            ".openai.azure.com",
            ".cognitiveservices.azure.com",
            ".services.ai.azure.com",
        ],
    )
    registry.register(AnthropicProvider("anthropic"), hosts=["api.anthropic.com"])
    registry.register(GoogleProvider("google"), hosts=["generativelanguage.googleapis.com"])
    registry.register(
        GoogleProvider("vertex"), hosts=VERTEX_HOSTS, host_suffixes=VERTEX_HOST_SUFFIXES
    )
    register_compatible_hosts(registry)
    register_any_host(registry)
    return registry


default_registry = _build_default()
