"""The installed httpx families (``httpx``, ``httpx2``) and their tracking classes."""

from __future__ import annotations

import importlib
import threading

from ._transport import Family, build_family

__all__ = ["FAMILY_NAMES", "available_families", "default_family", "family_of", "get_family"]

#: Families in order of preference for new clients: current SDKs require httpx2.
FAMILY_NAMES = ("httpx2", "httpx")

_lock = threading.Lock()
_families: dict[str, Family] = {}


def get_family(name: str | None = None) -> Family:
    """The family called ``name``, or the default one; ImportError says what to install."""
    if name is None:
        return default_family()
    if name not in FAMILY_NAMES:
        raise ValueError(f"unknown httpx family {name!r}: use one of {', '.join(FAMILY_NAMES)}")
    family = _families.get(name)
    if family is not None:
        return family
    with _lock:
        if name not in _families:
            try:
                module = importlib.import_module(name)
            except ImportError:
                raise ImportError(
                    f"tokenbudget: the {name!r} package is not installed (pip install {name})"
                ) from None
            _families[name] = build_family(name, module)
        return _families[name]


def available_families() -> list[Family]:
    """Every family whose package can be imported, preferred first."""
    families = []
    for name in FAMILY_NAMES:
        try:
            families.append(get_family(name))
        except ImportError:
            continue
    return families


def default_family() -> Family:
    """httpx2 when installed (anthropic 2.x accepts nothing else), else httpx."""
    families = available_families()
    if not families:
        raise ImportError("tokenbudget needs httpx or httpx2: pip install httpx")
    return families[0]


def family_of(obj: object) -> Family:
    """The family of an httpx-like client, transport, request, response or class.

    Decided by subclassing, not by module names: SDKs re-export httpx2 classes
    and rename their ``__module__``, and tracking transports live in tokenbudget.
    """
    cls = obj if isinstance(obj, type) else type(obj)
    for family in available_families():
        module = family.module
        roots = (
            module.Client,
            module.AsyncClient,
            module.BaseTransport,
            module.AsyncBaseTransport,
            module.Request,
            module.Response,
        )
        if issubclass(cls, roots):
            return family
    raise TypeError(f"{cls.__qualname__} is not an httpx or httpx2 object")
