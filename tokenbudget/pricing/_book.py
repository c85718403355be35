"""``PriceBook``: model-name resolution per provider, and the cost of a usage.

Lookups are per provider, because one model name can cost differently at two
providers. Each provider's names are merged once into a dict, layered so that
``register_model`` entries win over the override file, which wins over the
built-in data. Resolution of a ``(provider, model)`` pair is cached in a dict, so
pricing a call costs one dict lookup plus the arithmetic in ``_rates.py``.

Provider chains: ``azure`` falls back to ``openai``'s list prices, ``vertex`` to
``google`` then ``anthropic``, ``openrouter`` (which passes its makers' prices
through) to the maker named by the model's prefix, then every maker. With no
provider, the maker named by a prefix is tried first, then makers before hosts,
so ``gpt-4o`` resolves to OpenAI. Unknown hosts (``openai-compatible``, local
servers) only see ``register_model`` entries.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import os
import threading
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._data import Usage
from ._data import (
    builtin_providers,
    builtin_version,
    default_override_path,
    load_builtin,
    load_override,
)
from ._errors import PriceDataError
from ._model import ModelPrice
from ._names import candidates, normalize, prefix_provider
from ._registry import GLOBAL_PROVIDERS, Registry, entry_from_prices
from ._schema import ModelEntry, PriceFile

__all__ = ["REGISTRY", "PriceBook"]

logger = logging.getLogger("tokenbudget.pricing")

#: Providers that make models, searched first when no provider is given.
MAKERS = ("openai", "anthropic", "google", "xai", "deepseek", "mistral")
#: Hosts of other makers' models, searched after the makers.
HOSTS = ("groq", "together", "fireworks", "perplexity", "openrouter")
_FALLBACKS: dict[str, tuple[str, ...]] = {
    "azure": ("openai",),
    "vertex": ("google", "anthropic"),
    "openrouter": MAKERS,
}
_PROVIDER_ALIASES = {
    "gemini": "google",
    "google-genai": "google",
    "vertex_ai": "vertex",
    "vertexai": "vertex",
    "x-ai": "xai",
    "grok": "xai",
    "mistralai": "mistral",
    "together_ai": "together",
    "togetherai": "together",
    "fireworks_ai": "fireworks",
    "azure_openai": "azure",
    "azure-openai": "azure",
}
_MISS: Any = object()
_ZERO = Decimal(0)

#: Providers whose calls cost nothing unless a price was registered: local servers.
FREE_PROVIDERS = frozenset({"local"})
_CACHE_LIMIT = 8192

#: Entries registered with ``register_model``: shared by every book.
REGISTRY = Registry()


def canonical_provider(provider: str | None) -> str | None:
    """The provider name the data uses (``gemini`` -> ``google``); ``None`` stays."""
    if provider is None:
        return None
    name = provider.strip().lower()
    if name in GLOBAL_PROVIDERS:
        return None
    return _PROVIDER_ALIASES.get(name, name)


class PriceBook:
    """Resolves model names and prices usage; thread-safe; resolution cached.

    Build one with :meth:`default` (the process-wide book: built-in data, the
    override file, ``register_model`` entries) or :meth:`load` (built-in data plus
    an optional override file). Every book also sees ``register_model`` entries.
    """

    _default: PriceBook | None = None
    _default_lock = threading.Lock()

    def __init__(
        self,
        overrides: Iterable[PriceFile] = (),
        *,
        override_version: str | None = None,
        builtin: bool = True,
        registry: Registry | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._use_builtin = builtin
        self._builtin: dict[str, PriceFile | None] = {}
        self._overrides: dict[str, list[PriceFile]] = {}
        for file in overrides:
            self._overrides.setdefault(file.provider, []).append(file)
        self._override_version = override_version
        self._local: dict[str | None, dict[str, ModelEntry]] = {}
        self._registry = REGISTRY if registry is None else registry
        self._registry.subscribe(self)
        self._indexes: dict[str, dict[str, ModelPrice]] = {}
        self._shared: dict[int, ModelPrice] = {}
        self._cache: dict[tuple[str | None, str], ModelPrice | None] = {}
        self._warned: set[tuple[str | None, str]] = set()
        self._version: str | None = None

    # -- construction ---------------------------------------------------------------

    @classmethod
    def load(cls, override: str | os.PathLike[str] | None = None) -> PriceBook:
        """The built-in data plus, when given, an override file (its prices win).

        The override may be a tokenbudget price file or a LiteLLM
        ``model_prices_and_context_window.json``. Raises :class:`PriceDataError`
        when it cannot be read or validated.
        """
        if override is None:
            return cls()
        files, digest = load_override(override)
        return cls(files, override_version=f"override-{digest}")

    @classmethod
    def default(cls) -> PriceBook:
        """The process-wide book.

        Built-in data, plus the override file at ``$TOKENBUDGET_PRICES`` or, when
        that is unset, ``~/.config/tokenbudget/prices.json`` if it exists, plus
        ``register_model`` entries. A broken override file is logged and skipped:
        pricing must never break the caller's LLM call.
        """
        book = cls._default
        if book is not None:
            return book
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls._load_default()
            return cls._default

    @classmethod
    def _load_default(cls) -> PriceBook:
        path: Path | None = default_override_path()
        if path is not None and not os.environ.get("TOKENBUDGET_PRICES") and not path.exists():
            path = None
        try:
            return cls.load(path)
        except PriceDataError as exc:
            logger.error("tokenbudget: ignoring price override file: %s", exc)
            return cls()

    @classmethod
    def _reset_default(cls) -> None:
        """Forget the process-wide book (tests, or after changing the override file)."""
        with cls._default_lock:
            cls._default = None

    # -- identity ---------------------------------------------------------------------

    @property
    def version(self) -> str:
        """Identifies the price data: built-in hash, override hash, registrations hash."""
        version = self._version
        if version is None:
            parts = [builtin_version() if self._use_builtin else "no-builtin"]
            if self._override_version:
                parts.append(self._override_version)
            registered = self._registry.fingerprint(_dump) + "#" + self._local_fingerprint()
            if registered != "#":
                parts.append("registered-" + hashlib.sha256(registered.encode()).hexdigest()[:12])
            version = self._version = "+".join(parts)
        return version

    def _local_fingerprint(self) -> str:
        with self._lock:
            return "|".join(
                f"{p}:{_dump(e)}"
                for p in sorted(self._local, key=lambda x: x or "")
                for e in self._local[p].values()
            )

    def providers(self) -> list[str]:
        """Every provider this book has prices for."""
        names = set(builtin_providers() if self._use_builtin else ())
        names.update(self._overrides)
        names.update(self._registry.providers())
        names.update(p for p in self._local if p is not None)
        order = {name: i for i, name in enumerate(MAKERS + HOSTS)}
        return sorted(names, key=lambda n: (order.get(n, len(order)), n))

    # -- resolution --------------------------------------------------------------------

    def resolve(self, model: str, provider: str | None = None) -> ModelPrice | None:
        """The prices of ``model`` at ``provider`` (any provider when ``None``).

        Returns ``None`` for an unknown model. A known model without a published
        price resolves to a :class:`ModelPrice` whose ``unpriced`` gives the reason.
        """
        key = (provider, model)
        found = self._cache.get(key, _MISS)
        if found is _MISS:
            found = self._lookup(model, provider)
            with self._lock:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[key] = found
        return found  # type: ignore[no-any-return]

    def _lookup(self, model: str, provider: str | None) -> ModelPrice | None:
        keys = candidates(model)
        for name in self._chain(model, provider):
            index = self._index(name)
            for key in keys:
                found = index.get(key)
                if found is not None:
                    return found
        return None

    def _chain(self, model: str, provider: str | None) -> list[str]:
        canonical = canonical_provider(provider)
        maker = prefix_provider(model)
        head, sep, _ = normalize(model).partition("/")
        if maker is None and sep and head in self.providers():
            maker = head
        if canonical is None:
            chain = [maker] if maker else []
            chain.extend(self.providers())
            if not chain:
                chain.append("custom")
        else:
            chain = [canonical]
            fallbacks = _FALLBACKS.get(canonical, ())
            if canonical == "openrouter" and maker:
                chain.append(maker)
            chain.extend(fallbacks)
        return list(dict.fromkeys(chain))

    def _index(self, provider: str) -> dict[str, ModelPrice]:
        index = self._indexes.get(provider)
        if index is None:
            with self._lock:
                index = self._indexes.get(provider)
                if index is None:
                    index = self._indexes[provider] = self._build_index(provider)
        return index

    def _builtin_file(self, provider: str) -> PriceFile | None:
        if not self._use_builtin:
            return None
        if provider not in self._builtin:
            self._builtin[provider] = load_builtin(provider)
        return self._builtin[provider]

    def _build_index(self, provider: str) -> dict[str, ModelPrice]:
        index: dict[str, ModelPrice] = {}
        builtin = self._builtin_file(provider)
        multiplier = builtin.batch_multiplier if builtin else None
        layers: list[tuple[str, str, Iterable[ModelEntry], Decimal | None]] = []
        if builtin is not None:
            layers.append(("built-in", provider, builtin.models, multiplier))
        for file in self._overrides.get(provider, ()):
            own = file.batch_multiplier if file.batch_multiplier is not None else multiplier
            layers.append(("override", provider, file.models, own))
        for shared in (self._registry.entries(None), self._local_entries(None)):
            layers.append(("registered", "custom", shared, None))
        for own_entries in (self._registry.entries(provider), self._local_entries(provider)):
            layers.append(("registered", provider, own_entries, multiplier))
        for origin, owner, entries, batch in layers:
            for entry in entries:
                if owner == "custom":
                    price = self._shared_price(entry)
                else:
                    price = ModelPrice(entry.id, owner, entry, origin, batch)
                for name in entry.names():
                    index[normalize(name)] = price
                if entry.id.lower().endswith("-latest"):
                    index.setdefault(normalize(entry.id[: -len("-latest")]), price)
        return index

    def _shared_price(self, entry: ModelEntry) -> ModelPrice:
        """One ModelPrice per provider-less registration, shared by every index."""
        price = self._shared.get(id(entry))
        if price is None or price.entry is not entry:
            price = self._shared[id(entry)] = ModelPrice(entry.id, "custom", entry, "registered")
        return price

    def _local_entries(self, provider: str | None) -> list[ModelEntry]:
        with self._lock:
            return list(self._local.get(provider, {}).values())

    def suggestions(self, model: str, provider: str | None = None) -> list[str]:
        """Known names close to ``model`` (for error messages)."""
        names: set[str] = set()
        for name in self._chain(model, provider):
            names.update(self._index(name))
        return difflib.get_close_matches(normalize(model), sorted(names), n=3, cutoff=0.6)

    # -- pricing ---------------------------------------------------------------------------

    def cost(
        self,
        provider: str | None,
        model: str,
        usage: Usage,
        *,
        service_tier: str | None = None,
        batch: bool = False,
        at: datetime | None = None,
    ) -> Decimal | None:
        """Dollars for ``usage``; ``None`` when the model is unpriced.

        A cost the provider reported itself (``usage.reported_cost_usd``) wins.
        A model served by a local server (provider ``"local"``: Ollama, vLLM, LM
        Studio) costs zero unless a price was registered for it.
        An unknown model, or one with no published price, returns ``None``; the
        reason is logged once per (provider, model) at DEBUG level (the tracker
        warns the user once per model).
        """
        if usage.reported_cost_usd is not None:
            return usage.reported_cost_usd
        price = self._cache.get((provider, model), _MISS)
        if price is _MISS:
            price = self.resolve(model, provider)
        if price is not None:
            result: Decimal | None = price.cost(
                usage, service_tier=service_tier, batch=batch, at=at
            )
            if result is not None:
                return result
        if provider in FREE_PROVIDERS:
            return _ZERO
        self._warn_unpriced(provider, model, price)
        return None

    def _warn_unpriced(self, provider: str | None, model: str, price: ModelPrice | None) -> None:
        key = (provider, model)
        if key in self._warned or not logger.isEnabledFor(logging.DEBUG):
            return
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        where = f" at provider {provider!r}" if provider else ""
        if price is not None:
            reason = f"it has no published price ({price.unpriced})"
        else:
            close = self.suggestions(model, provider)
            reason = "it is not in the price data" + (
                f" (close matches: {', '.join(close)})" if close else ""
            )
        logger.debug(
            "tokenbudget: model %r%s is unpriced: %s; its tokens are recorded with cost None."
            " Add a price with tokenbudget.register_model() or TOKENBUDGET_PRICES.",
            model,
            where,
            reason,
        )

    # -- registration ------------------------------------------------------------------

    def register(self, name: str, *, provider: str | None = None, **prices: Any) -> ModelPrice:
        """Add or replace a model's prices in this book only; returns its ModelPrice.

        Accepts ``input_per_1k``/``output_per_1k`` (seed API), ``*_per_1m``,
        ``cached_input_*``, ``cache_write_*``, ``cache_write_1h_*`` and the
        schema's own keys (``tiers``, ``batch``, ``service_tiers``, ``extra``,
        ``prices``). ``provider=None`` applies to every provider.
        """
        entry = entry_from_prices(name, prices)
        canonical = canonical_provider(provider)
        with self._lock:
            self._local.setdefault(canonical, {})[entry.id.lower()] = entry
        self._invalidate()
        found = self.resolve(name, canonical)
        assert found is not None
        return found

    def _invalidate(self) -> None:
        """Drop every derived index and cached resolution (after a registration)."""
        with self._lock:
            self._indexes = {}
            self._shared = {}
            self._cache = {}
            self._warned = set()
            self._version = None

    # -- listing -------------------------------------------------------------------------

    def models(self, provider: str | None = None) -> dict[str, ModelPrice]:
        """Every model, by id; with ``provider=None`` a name already taken by an
        earlier provider is keyed ``provider/id`` (every key resolves back to it).
        """
        chain = [canonical_provider(provider) or "custom"] if provider else self.providers()
        if provider is None:
            chain.append("custom")
        out: dict[str, ModelPrice] = {}
        for name in chain:
            seen: set[int] = set()
            for price in self._index(name).values():
                if id(price) in seen or (provider is None and price.provider != name):
                    continue
                seen.add(id(price))
                key = price.model
                if provider is None and (key in out or self.resolve(key) is not price):
                    key = f"{name}/{price.model}"
                out.setdefault(key, price)
        return out


def _dump(entry: ModelEntry) -> str:
    return entry.model_dump_json(by_alias=True)
