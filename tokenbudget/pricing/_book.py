"""``PriceBook``: model-name resolution per provider, and the cost of a usage.

A book resolves a ``(provider, model)`` pair by trying the lookup keys of the
name (``_names.py``) in the merged index (``_layers.py``) of each provider of
the search order (``_providers.py``). The result, a :class:`ModelPrice`, a
dated alias (``_aliases.py``: the model depends on the call's date, so the
alias itself is cached and asked per call) or ``None``, is cached in a dict, so
pricing a call costs one dict lookup plus the arithmetic in ``_rates.py``.
"""

from __future__ import annotations

import difflib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._core import renew_after_fork
from .._data import Usage, plain_decimal
from ._aliases import AliasRoute
from ._data import default_override_path, load_override
from ._errors import PriceDataError
from ._layers import Named, PriceLayers
from ._model import ModelPrice
from ._names import candidates, normalize
from ._providers import FREE_PROVIDERS, canonical_provider, search_order
from ._registry import REGISTRY, Registry, entry_from_prices
from ._schema import PriceFile
from ._unpriced import UnpricedLog

__all__ = ["PriceBook"]

logger = logging.getLogger("tokenbudget.pricing")

_MISS: Any = object()
_ZERO = Decimal(0)
_CACHE_LIMIT = 8192


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
        renew_after_fork(self, "_lock", threading.RLock)
        self._registry = REGISTRY if registry is None else registry
        self._layers = PriceLayers(
            overrides, override_version=override_version, builtin=builtin, registry=self._registry
        )
        self._registry.subscribe(self)
        self._cache: dict[tuple[str | None, str], Named | None] = {}
        self._unpriced = UnpricedLog()
        self._version: str | None = None
        #: Bumped whenever the book's prices change (a registration here or in
        #: ``register_model``): a cost function from :meth:`pricer` taken at an
        #: older generation must be asked for again.
        self.generation = 0

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
        """Forget the process-wide book (``reset_default_book``, and tests)."""
        with cls._default_lock:
            cls._default = None

    # -- identity ---------------------------------------------------------------------

    @property
    def version(self) -> str:
        """Identifies the price data: built-in hash, override hash, registrations hash."""
        version = self._version
        if version is None:
            version = self._version = self._layers.version()
        return version

    def providers(self) -> list[str]:
        """Every provider this book has prices for."""
        return self._layers.providers()

    # -- resolution --------------------------------------------------------------------

    def resolve(
        self, model: str, provider: str | None = None, *, at: datetime | None = None
    ) -> ModelPrice | None:
        """The prices of ``model`` at ``provider`` (any provider when ``None``).

        Returns ``None`` for an unknown model. A known model without a published
        price resolves to a :class:`ModelPrice` whose ``unpriced`` gives the reason.
        A dated alias (``mistral-large-latest``) resolves to the model it means
        at ``at`` (now when ``None``; a naive datetime is UTC).
        """
        found = self._named(model, provider)
        if type(found) is AliasRoute:
            return found.at(at)
        return found  # type: ignore[return-value]

    def _named(self, model: str, provider: str | None) -> Named | None:
        key = (provider, model)
        found = self._cache.get(key, _MISS)
        if found is _MISS:
            found = self._lookup(model, provider)
            with self._lock:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[key] = found
        return found  # type: ignore[no-any-return]

    def _lookup(self, model: str, provider: str | None) -> Named | None:
        keys = candidates(model)
        for name in search_order(model, provider, self.providers()):
            index = self._layers.index(name)
            for key in keys:
                found = index.get(key)
                if found is not None:
                    return found
        return None

    def list_provider(self, model: str) -> str | None:
        """The provider whose list price ``model`` is billed at when the host names none.

        The provider the book resolves ``model`` at without one: the maker for a
        maker's model (``gpt-4o`` -> ``"openai"``, ``claude-sonnet-4-5`` ->
        ``"anthropic"``, ``gemini-2.5-flash`` -> ``"google"``), else the host it
        is known from. ``None`` when the book does not know the model, knows it
        without a published price, or knows it only from a ``register_model``
        entry without a provider or for a free provider (``"local"``). Used to
        price calls to gateways and local servers, which do not say whose model
        they serve.
        """
        price = self.resolve(model)
        if price is None or price.unpriced is not None:
            return None
        provider = canonical_provider(price.provider)
        if provider is None or provider in FREE_PROVIDERS:
            return None
        return provider

    def suggestions(self, model: str, provider: str | None = None) -> list[str]:
        """Known names close to ``model`` (for error messages)."""
        names: set[str] = set()
        for name in search_order(model, provider, self.providers()):
            names.update(self._layers.index(name))
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
        Studio) costs zero unless a price was registered for it (the tracker
        prices a paying provider's model answered there by :meth:`list_provider`).
        An unknown model, or one with no published price, returns ``None``; the
        reason is logged once per (provider, model) at DEBUG level (the tracker
        warns the user once per model).
        """
        if usage.reported_cost_usd is not None:
            return plain_decimal(usage.reported_cost_usd)
        price = self._cache.get((provider, model), _MISS)
        if price is _MISS:
            price = self._named(model, provider)
        if type(price) is AliasRoute:
            price = price.at(at)
        if price is not None:
            result: Decimal | None = price.cost(
                usage, service_tier=service_tier, batch=batch, at=at
            )
            if result is not None:
                return result
        if provider in FREE_PROVIDERS:
            return _ZERO
        self._unpriced.report(provider, model, price, self.suggestions)
        return None

    def pricer(
        self,
        provider: str | None,
        model: str,
        service_tier: str | None = None,
        batch: bool = False,
    ) -> Callable[[Usage], Decimal] | None:
        """The compiled cost function of ``model``'s calls at this tier and batch.

        ``pricer(...)(usage)`` equals :meth:`cost` for a ``usage`` without a
        reported cost, at any date, until :attr:`generation` changes. ``None``
        when the price cannot be fixed ahead of the call (an unknown or unpriced
        model, a dated alias, several price periods, peak-hour windows): price
        those calls with :meth:`cost`. A caller keeps the function per
        ``(provider, model, service_tier, batch)`` instead of resolving each call.
        """
        price = self._named(model, provider)
        if type(price) is not ModelPrice:
            return None
        return price.pricer(service_tier, batch)

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
        self._layers.add(canonical, entry)
        self._invalidate()
        found = self.resolve(name, canonical)
        assert found is not None
        return found

    def _invalidate(self) -> None:
        """Drop every derived index and cached resolution (after a registration)."""
        with self._lock:
            self._layers.invalidate()
            self._cache = {}
            self._unpriced = UnpricedLog()
            self._version = None
            self.generation += 1

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
            for price in self._layers.index(name).values():
                if type(price) is AliasRoute:
                    continue
                assert isinstance(price, ModelPrice)
                if id(price) in seen or (provider is None and price.provider != name):
                    continue
                seen.add(id(price))
                key = price.model
                if provider is None and (key in out or self.resolve(key) is not price):
                    key = f"{name}/{price.model}"
                out.setdefault(key, price)
        return out


renew_after_fork(PriceBook, "_default_lock", threading.Lock)
