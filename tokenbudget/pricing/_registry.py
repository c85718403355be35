"""Building model entries from keyword prices, and the process-wide registry.

``register_model(name, input_per_1k=..., ...)`` accepts the seed's per-1k floats,
per-1M prices, cache prices and, for full control, the schema's own keys
(``tiers``, ``batch``, ``service_tiers``, ``extra``, ``prices``). Everything is
validated by the same schema as the data files. Floats are converted through
``str`` so ``0.0025`` means exactly ``Decimal("0.0025")``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from .._core import renew_after_fork
from ._errors import PriceDataError
from ._schema import ModelEntry

__all__ = ["REGISTRY", "Registry", "entry_from_prices", "to_decimal"]

_RATE_NAMES = ("input", "output", "cached_input", "cache_write", "cache_write_1h")
_SHEET_KEYS = frozenset(
    {
        "tiers",
        "batch",
        "service_tiers",
        "extra",
        "windows",
        "from",
        "input_audio",
        "output_audio",
        "input_image",
        "output_image",
        "reasoning",
    }
)
_ENTRY_KEYS = frozenset(
    {"aliases", "source", "checked", "note", "deprecated", "context_window", "unpriced", "prices"}
)


def to_decimal(value: object) -> Decimal:
    """An exact Decimal from an int, str, Decimal or float (floats via ``str``)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a price cannot be a bool")
    if isinstance(value, (int, str)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raise TypeError(f"a price must be a number or a numeric string, not {type(value).__name__}")


def _plain(value: Any) -> Any:
    """Floats inside nested schema values become exact Decimals too."""
    if isinstance(value, float):
        return to_decimal(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def entry_from_prices(name: str, prices: Mapping[str, Any]) -> ModelEntry:
    """Validate keyword prices into a schema entry for model ``name``."""
    period: dict[str, Any] = {}
    entry: dict[str, Any] = {
        "id": name,
        "source": "register_model()",
        "checked": date.today(),
    }
    for key, value in prices.items():
        if value is None:
            continue
        rate, unit = _split_unit(key)
        if rate is not None:
            scaled = to_decimal(value) * (1000 if unit == "1k" else 1)
            if rate in period and period[rate] != scaled:
                raise ValueError(f"{key} contradicts another price given for {rate!r}")
            period[rate] = scaled
        elif key in _RATE_NAMES or key in _SHEET_KEYS:
            period[key] = _plain(value)
        elif key in _ENTRY_KEYS:
            entry[key] = _plain(value)
        else:
            raise TypeError(f"register_model() got an unexpected price keyword {key!r}")
    if "prices" not in entry and "unpriced" not in entry:
        if "input" in period:
            period.setdefault("output", Decimal(0))
        entry["prices"] = [period]
    elif period:
        raise TypeError("give either 'prices' (a full history) or single prices, not both")
    try:
        return ModelEntry.model_validate(entry)
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in e['loc']) or '(entry)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise PriceDataError(f"register_model({name!r}): {problems}") from None


def _split_unit(key: str) -> tuple[str | None, str | None]:
    for suffix in ("_per_1k", "_per_1m"):
        if key.endswith(suffix) and key[: -len(suffix)] in _RATE_NAMES:
            return key[: -len(suffix)], suffix[-2:]
    return None, None


class Registry:
    """Entries registered with ``register_model``, shared by every PriceBook.

    Books subscribe with a callback; registering invalidates their caches.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        renew_after_fork(self, "_lock", threading.Lock)
        self._entries: dict[str | None, dict[str, ModelEntry]] = {}
        self._listeners: weakref.WeakSet[Any] = weakref.WeakSet()
        self.generation = 0

    def subscribe(self, book: Any) -> None:
        """Call ``book._invalidate()`` whenever the registry changes."""
        self._listeners.add(book)

    def add(self, provider: str | None, entry: ModelEntry) -> None:
        """Register ``entry`` for ``provider`` (``None``: every provider)."""
        with self._lock:
            self._entries.setdefault(provider, {})[entry.id.lower()] = entry
            self.generation += 1
            listeners = list(self._listeners)
        for book in listeners:
            book._invalidate()

    def clear(self) -> None:
        """Forget every registration (``unregister_models``, and tests)."""
        with self._lock:
            self._entries.clear()
            self.generation += 1
            listeners = list(self._listeners)
        for book in listeners:
            book._invalidate()

    def entries(self, provider: str | None) -> list[ModelEntry]:
        """Registered entries of ``provider`` (``None``: the provider-less ones)."""
        with self._lock:
            return list(self._entries.get(provider, {}).values())

    def providers(self) -> list[str]:
        """Providers that have registered entries."""
        with self._lock:
            return sorted(p for p in self._entries if p is not None)

    def fingerprint(self, dump: Callable[[ModelEntry], str]) -> str:
        """A stable text of every registration, for version hashing."""
        with self._lock:
            return "|".join(
                f"{p}:{dump(e)}"
                for p in sorted(self._entries, key=lambda x: x or "")
                for e in self._entries[p].values()
            )


#: Entries registered with ``register_model``: shared by every book.
REGISTRY = Registry()
