"""The installed httpx families (``httpx``, ``httpx2``) and their tracking classes.

httpx and httpx2 have the same API under two import names, so the transport
and stream logic is written once (``_transport``, ``_streams``) and
:func:`build_family` only subclasses it with each installed family's base
classes, on first use.
"""

from __future__ import annotations

import importlib
import sys
import threading
from dataclasses import dataclass
from typing import Any

from .._core import renew_after_fork
from ._sdks import choose_family
from ._shared_json import json_reads_content
from ._streams import AsyncTrackedStreamLogic, ReplayStreamLogic, TrackedStreamLogic
from ._transport import (
    AsyncTrackingTransportLogic,
    TrackingTransportLogic,
    copyable_requests,
    learn_urls,
)

__all__ = [
    "FAMILY_NAMES",
    "Family",
    "available_families",
    "build_family",
    "default_family",
    "family_of",
    "get_family",
]


@dataclass(frozen=True)
class Family:
    """The tracking classes built for one httpx family (``httpx`` or ``httpx2``)."""

    name: str
    module: Any
    Transport: type[Any]
    AsyncTransport: type[Any]
    #: A sync and async byte stream handing over a list of chunks (cache replays, fakes).
    ChunkStream: type[Any]

    def is_tracking(self, transport: object) -> bool:
        """True when ``transport`` is one of this family's tracking transports."""
        return isinstance(transport, (self.Transport, self.AsyncTransport))


def build_family(name: str, module: Any) -> Family:
    """The tracking classes for the httpx-like ``module``: the shared logic, subclassed."""

    def subclass(logic: type[Any], *bases: type[Any], **attributes: Any) -> type[Any]:
        cls_name = logic.__name__.removesuffix("Logic")
        cls = type(cls_name, (logic, *bases), {"__module__": __name__, **attributes})
        cls.__qualname__ = f"{name}.{cls_name}"
        return cls

    learn_urls(module)
    replay = subclass(ReplayStreamLogic, module.SyncByteStream, module.AsyncByteStream)
    broken = {"_decoding_error": module.DecodingError}
    tracked = subclass(TrackedStreamLogic, module.SyncByteStream, **broken)
    tracked_async = subclass(AsyncTrackedStreamLogic, module.AsyncByteStream, **broken)
    # A mock transport's handler answers as a server would: what it does is not this call.
    leaves = frozenset(
        getattr(module, name, None)
        for name in ("HTTPTransport", "AsyncHTTPTransport", "MockTransport")
    ) - {None}
    copyable = copyable_requests(module)
    shares_json = json_reads_content(module)
    transport = subclass(
        TrackingTransportLogic,
        module.BaseTransport,
        _module=module,
        _tracked_stream=tracked,
        _replay_stream=replay,
        _leaves=leaves,
        _copyable=copyable,
        _shares_json=shares_json,
    )
    transport_async = subclass(
        AsyncTrackingTransportLogic,
        module.AsyncBaseTransport,
        _module=module,
        _tracked_stream=tracked_async,
        _replay_stream=replay,
        _leaves=leaves,
        _copyable=copyable,
        _shares_json=shares_json,
    )
    return Family(name, module, transport, transport_async, replay)


#: Families in order of preference for new clients: current SDKs use httpx2.
FAMILY_NAMES = ("httpx2", "httpx")

_lock = threading.Lock()
renew_after_fork(sys.modules[__name__], "_lock", threading.Lock)
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
    """The family every installed SDK accepts as its http client, httpx2 first.

    Decided from the installed SDK releases (``_sdks.choose_family``): httpx2
    unless an installed SDK takes only httpx (openai < 2.47, anthropic 0.x,
    google-genai 1.46-2.17). Raises ``FamilyConflict`` (naming ``family=``)
    when the installed SDKs want different families.
    """
    families = available_families()
    if not families:
        raise ImportError("tokenbudget needs httpx or httpx2: pip install httpx")
    chosen = choose_family([family.name for family in families])
    return next(family for family in families if family.name == chosen)


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
