"""The layers of price data one book merges, and the name index built from them.

Layers, from the lowest precedence to the highest: the built-in data, the
override files, then registrations, the provider-less ones before the
provider's own, and among each ``register_model`` entries before the book's own
(``PriceBook.register``). Each provider's names are merged once into a dict from lookup key (see
``_names.py``) to :class:`ModelPrice`, name by name: an override of ``gpt-4o``
leaves the built-in ``gpt-4o-2024-05-13`` snapshot in place. An override file's
entry is merged field by field over the entry its id already names
(``_merge.py``: it changes or adds prices and erases no history, window, tier,
service tier, batch price, extra or alias); a registration replaces the entry
of its names whole. A file's dated aliases
(``_aliases.py``) are names too: a later layer's model or alias of the same name
replaces them, and their targets are looked up once every layer is merged, so an
override of a target's prices applies to the alias as well.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from decimal import Decimal

from .._core import renew_after_fork
from ._aliases import AliasRoute, compile_alias
from ._data import builtin_providers, builtin_version, load_builtin
from ._merge import merge_entry
from ._model import ModelPrice
from ._names import normalize
from ._providers import sort_providers
from ._registry import Registry
from ._schema import DatedAlias, ModelEntry, PriceFile

__all__ = ["Named", "PriceLayers"]

#: One layer: (origin, owning provider, entries, batch multiplier, dated aliases).
_Layer = tuple[str, str, Iterable[ModelEntry], "Decimal | None", Iterable[DatedAlias]]
#: What a name of a provider's index means: a model, or a dated alias of its models.
Named = ModelPrice | AliasRoute


class PriceLayers:
    """Built-in data, override files and registrations, merged per provider.

    Thread-safe. A provider's built-in file is read, and its index built, the
    first time a name is looked up there; :meth:`invalidate` drops every index
    (the registrations changed).
    """

    def __init__(
        self,
        overrides: Iterable[PriceFile],
        *,
        override_version: str | None,
        builtin: bool,
        registry: Registry,
    ) -> None:
        self._lock = threading.RLock()
        renew_after_fork(self, "_lock", threading.RLock)
        self._use_builtin = builtin
        self._builtin: dict[str, PriceFile | None] = {}
        self._overrides: dict[str, list[PriceFile]] = {}
        for file in overrides:
            self._overrides.setdefault(file.provider, []).append(file)
        self._override_version = override_version
        self._registry = registry
        self._local: dict[str | None, dict[str, ModelEntry]] = {}
        self._indexes: dict[str, dict[str, Named]] = {}
        self._shared: dict[int, ModelPrice] = {}

    def providers(self) -> list[str]:
        """Every provider with prices in some layer, makers first, then hosts."""
        names = set(builtin_providers() if self._use_builtin else ())
        names.update(self._overrides)
        names.update(self._registry.providers())
        names.update(p for p in self._local if p is not None)
        return sort_providers(names)

    def version(self) -> str:
        """Identifies the data: built-in hash, override hash, registrations hash."""
        parts = [builtin_version() if self._use_builtin else "no-builtin"]
        if self._override_version:
            parts.append(self._override_version)
        registered = self._registry.fingerprint(_dump) + "#" + self._local_fingerprint()
        if registered != "#":
            parts.append("registered-" + hashlib.sha256(registered.encode()).hexdigest()[:12])
        return "+".join(parts)

    def _local_fingerprint(self) -> str:
        with self._lock:
            return "|".join(
                f"{p}:{_dump(e)}"
                for p in sorted(self._local, key=lambda x: x or "")
                for e in self._local[p].values()
            )

    # -- the book's own registrations ---------------------------------------------------

    def add(self, provider: str | None, entry: ModelEntry) -> None:
        """Add or replace a registration of this book only (``None``: every provider)."""
        with self._lock:
            self._local.setdefault(provider, {})[entry.id.lower()] = entry
        self.invalidate()

    def invalidate(self) -> None:
        """Drop every index, to be built again from the current layers."""
        with self._lock:
            self._indexes = {}
            self._shared = {}

    # -- the merged index ----------------------------------------------------------------

    def index(self, provider: str) -> dict[str, Named]:
        """Lookup key -> prices (or dated alias), for every name ``provider`` has."""
        index = self._indexes.get(provider)
        if index is None:
            with self._lock:
                index = self._indexes.get(provider)
                if index is None:
                    index = self._indexes[provider] = self._build_index(provider)
        return index

    def _build_index(self, provider: str) -> dict[str, Named]:
        index: dict[str, Named] = {}
        pending: dict[str, DatedAlias] = {}
        for origin, owner, entries, batch, aliases in self._layers(provider):
            for entry in entries:
                if owner == "custom":
                    price = self._shared_price(entry)
                elif origin == "override":
                    price = _over(index.get(normalize(entry.id)), entry, owner, batch)
                else:
                    price = ModelPrice(entry.id, owner, entry, origin, batch)
                for name in price.entry.names():
                    index[normalize(name)] = price
                    pending.pop(normalize(name), None)
                if entry.id.lower().endswith("-latest"):
                    index.setdefault(normalize(entry.id[: -len("-latest")]), price)
            for alias in aliases:
                index.pop(normalize(alias.alias), None)
                pending[normalize(alias.alias)] = alias
        for key, alias in pending.items():
            route = compile_alias(alias, index, provider)
            if route is not None:
                index[key] = route
        return index

    def _layers(self, provider: str) -> list[_Layer]:
        """The layers of ``provider``, lowest precedence first."""
        builtin = self._builtin_file(provider)
        multiplier = builtin.batch_multiplier if builtin else None
        layers: list[_Layer] = []
        if builtin is not None:
            layers.append(("built-in", provider, builtin.models, multiplier, builtin.dated_aliases))
        for file in self._overrides.get(provider, ()):
            own = file.batch_multiplier if file.batch_multiplier is not None else multiplier
            layers.append(("override", provider, file.models, own, file.dated_aliases))
        for shared in (self._registry.entries(None), self._local_entries(None)):
            layers.append(("registered", "custom", shared, None, ()))
        for own_entries in (self._registry.entries(provider), self._local_entries(provider)):
            layers.append(("registered", provider, own_entries, multiplier, ()))
        return layers

    def _builtin_file(self, provider: str) -> PriceFile | None:
        if not self._use_builtin:
            return None
        if provider not in self._builtin:
            self._builtin[provider] = load_builtin(provider)
        return self._builtin[provider]

    def _shared_price(self, entry: ModelEntry) -> ModelPrice:
        """One ModelPrice per provider-less registration, shared by every index."""
        price = self._shared.get(id(entry))
        if price is None or price.entry is not entry:
            price = self._shared[id(entry)] = ModelPrice(entry.id, "custom", entry, "registered")
        return price

    def _local_entries(self, provider: str | None) -> list[ModelEntry]:
        with self._lock:
            return list(self._local.get(provider, {}).values())


def _over(below: Named | None, entry: ModelEntry, owner: str, batch: Decimal | None) -> ModelPrice:
    """An override file's entry, merged over the model its id names in the layers below."""
    if isinstance(below, ModelPrice) and below.provider == owner:
        entry = merge_entry(below.entry, entry)
    return ModelPrice(entry.id, owner, entry, "override", batch)


def _dump(entry: ModelEntry) -> str:
    return entry.model_dump_json(by_alias=True)
