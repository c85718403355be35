"""Loading price data: the built-in provider files and a user override file.

Built-in data is one JSON file per provider under ``tokenbudget/pricing/data``,
read lazily (a provider's file is parsed the first time a name is looked up
there) and validated by the pydantic schema. An override file is either a
tokenbudget price file (``{"format": "tokenbudget-prices/1", "providers": [...]}``)
or a LiteLLM ``model_prices_and_context_window.json``, converted on load.
Any problem raises :class:`PriceDataError` naming the file, the model and the
field.
"""

from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ._errors import PriceDataError
from ._schema import OverrideFile, PriceFile

__all__ = [
    "builtin_providers",
    "builtin_version",
    "default_override_path",
    "load_builtin",
    "load_override",
    "parse_price_file",
    "read_json",
]

_PACKAGE = "tokenbudget.pricing"


def read_json(text: str | bytes, origin: str) -> Any:
    """Parse JSON with every non-integer number as an exact ``Decimal``."""
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise PriceDataError(f"{origin}: not valid JSON: {exc}", path=origin) from exc


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _locate(origin: str, data: Any, loc: tuple[str | int, ...]) -> str:
    """``file, provider 'x', model 'y', field prices.0.input`` for an error location."""
    where = [origin]
    if isinstance(data, dict) and isinstance(data.get("provider"), str):
        where.append(f"provider {data['provider']!r}")
    path: list[str] = []
    node, previous = data, None
    for part in loc:
        child = _child(node, part)
        if isinstance(part, int) and previous in ("models", "providers"):
            label, key = ("model", "id") if previous == "models" else ("provider", "provider")
            name = child.get(key) if isinstance(child, dict) else None
            where.append(f"{label} {name!r}" if name else f"{label} #{part}")
            path = []
        elif part not in ("models", "providers"):
            path.append(str(part))
        node, previous = child, part
    return f"{', '.join(where)}, field {'.'.join(path) or '(whole entry)'}"


def _describe_error(origin: str, data: Any, exc: ValidationError) -> PriceDataError:
    """One clause per problem, naming file, provider, model and field."""
    problems = [f"{_locate(origin, data, e['loc'])}: {e['msg']}" for e in exc.errors()]
    return PriceDataError("invalid price data: " + "; ".join(problems), path=origin)


def parse_price_file(data: Any, origin: str) -> PriceFile:
    """Validate one provider file's parsed JSON."""
    try:
        return PriceFile.model_validate(data)
    except ValidationError as exc:
        raise _describe_error(origin, data, exc) from None


def builtin_providers() -> list[str]:
    """Names of the providers that ship a built-in data file."""
    return sorted(name for name, _ in _builtin_files())


@lru_cache(maxsize=1)
def _builtin_files() -> tuple[tuple[str, bytes], ...]:
    root = resources.files(_PACKAGE) / "data"
    return tuple(
        sorted(
            (item.name[: -len(".json")], item.read_bytes())
            for item in root.iterdir()
            if item.name.endswith(".json")
        )
    )


def load_builtin(provider: str) -> PriceFile | None:
    """The validated built-in file of ``provider`` (``None`` when there is none)."""
    for name, raw in _builtin_files():
        if name == provider:
            origin = f"tokenbudget/pricing/data/{name}.json"
            parsed = parse_price_file(read_json(raw, origin), origin)
            if parsed.provider != provider:
                raise PriceDataError(
                    f"{origin}: field provider: {parsed.provider!r} does not match the file name",
                    path=origin,
                )
            return parsed
    return None


def builtin_version() -> str:
    """A short hash of every built-in data file, plus their latest ``checked`` date."""
    digest = hashlib.sha256()
    for name, raw in _builtin_files():
        digest.update(name.encode())
        digest.update(raw)
    return f"builtin-{digest.hexdigest()[:12]}"


def load_override(path: str | os.PathLike[str]) -> tuple[list[PriceFile], str]:
    """Read an override file; returns its provider files and a content hash.

    Accepts a tokenbudget price file or a LiteLLM price JSON (converted).
    """
    origin = os.fspath(path)
    try:
        raw = Path(origin).read_bytes()
    except OSError as exc:
        raise PriceDataError(
            f"{origin}: cannot read price file: {exc.strerror}", path=origin
        ) from exc
    data = read_json(raw, origin)
    digest = hashlib.sha256(raw).hexdigest()[:12]
    if isinstance(data, dict) and "format" in data:
        try:
            override = OverrideFile.model_validate(data)
        except ValidationError as exc:
            raise _describe_error(origin, data, exc) from None
        return list(override.providers), digest
    if isinstance(data, dict) and "provider" in data and "models" in data:
        return [parse_price_file(data, origin)], digest
    from ._litellm import convert_litellm

    return convert_litellm(data, origin=origin, builtin=load_builtin), digest


def default_override_path() -> Path:
    """Where ``tokenbudget prices update`` writes by default.

    ``$TOKENBUDGET_PRICES`` when set, else ``$XDG_CONFIG_HOME/tokenbudget/prices.json``
    (``~/.config/tokenbudget/prices.json`` when ``XDG_CONFIG_HOME`` is unset).
    """
    env = os.environ.get("TOKENBUDGET_PRICES")
    if env:
        return Path(env).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "tokenbudget" / "prices.json"
