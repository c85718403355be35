"""The only part of :mod:`tokenbudget.testing` that knows httpx: requests in, responses out.

httpx and httpx2 share one API under two import names. A response is built
with the classes of the *request's* family, so a :class:`FakeLLM` answers
correctly under any client it is put under; its own family only tells
tokenbudget's tracker which client class to build around it.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, NamedTuple

from .._adapters import get_family
from ._wire import Answer

__all__ = ["RawRequest", "bind_family", "read_async", "read_sync", "to_response"]

_lock = threading.Lock()
_bound: dict[tuple[type[Any], str], type[Any]] = {}


class RawRequest(NamedTuple):
    """The parts of an httpx request the fake provider reads."""

    method: str
    url: str
    path: str
    query: str
    headers: dict[str, str]
    content: bytes


def _family_module(obj: object) -> Any:
    return importlib.import_module(type(obj).__module__.split(".", 1)[0])


def _raw(request: Any, content: bytes) -> RawRequest:
    url = request.url
    query = url.query
    return RawRequest(
        method=request.method.upper(),
        url=str(url),
        path=url.path,
        query=query.decode("ascii", "replace") if isinstance(query, bytes) else str(query),
        headers={name.lower(): value for name, value in request.headers.items()},
        content=content,
    )


def read_sync(request: Any) -> RawRequest:
    """Read a sync request's body and take the parts the fake needs."""
    return _raw(request, request.read())


async def read_async(request: Any) -> RawRequest:
    """Read an async request's body and take the parts the fake needs."""
    return _raw(request, await request.aread())


def to_response(request: Any, answer: Answer) -> Any:
    """``answer`` as a response of the request's own httpx family."""
    module = _family_module(request)
    return module.Response(
        answer.status,
        headers=list(answer.headers),
        stream=get_family(module.__name__).ChunkStream(answer.chunks),
        request=request,
        extensions={"http_version": b"HTTP/1.1"},
    )


def bind_family(cls: type[Any], family: str, module: Any) -> type[Any]:
    """``cls`` made a sync and async transport of ``module``'s family (cached)."""
    key = (cls, family)
    found = _bound.get(key)
    if found is not None:
        return found
    namespace = {
        "family": family,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
    }
    bound = type(cls.__name__, (cls, module.BaseTransport, module.AsyncBaseTransport), namespace)
    with _lock:
        return _bound.setdefault(key, bound)
