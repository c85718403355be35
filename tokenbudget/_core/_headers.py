"""Reading the few response headers the core needs, from httpx headers or a plain mapping."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["header_items", "wanted_headers"]

_WANTED = frozenset(("content-type", "content-encoding", "x-request-id", "request-id"))
_WANTED_RAW = frozenset(name.encode() for name in _WANTED)


def wanted_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The response headers the core reads, by lower-case name."""
    raw = getattr(headers, "raw", None)
    if raw is None:
        return {k.lower(): v for k, v in headers.items() if k.lower() in _WANTED}
    # httpx Headers: scan the raw byte pairs and decode only the wanted ones,
    # instead of decoding every header a provider sends (twenty or more).
    found = {}
    for key, value in raw:
        key = key.lower()
        if key in _WANTED_RAW:
            found[key.decode("ascii")] = value.decode("latin-1")
    return found


def header_items(headers: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """Every (name, value) pair, repeated names included, of an httpx or plain mapping."""
    multi_items = getattr(headers, "multi_items", None)
    return multi_items() if multi_items is not None else headers.items()
