"""Reading the few response headers the core needs, from httpx headers or a plain mapping."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import itemgetter

__all__ = ["header_bytes", "header_items", "learn_header_layout", "wanted_headers"]

_WANTED = frozenset(("content-type", "content-encoding", "x-request-id", "request-id"))
#: The wanted names as the bytes httpx keeps, each with its text.
_WANTED_TEXT = {name.encode(): name for name in _WANTED}
_WANTED_RAW = frozenset(_WANTED_TEXT)
#: Header classes known to keep their items as httpx does (``_list`` of (name, lower-case
#: name, value) byte triples), learnt per httpx family (``learn_header_layout``).
_TRIPLES: set[type] = set()
_NAME_VALUE = itemgetter(1, 2)


def learn_header_layout(headers_class: type) -> None:
    """Read ``headers_class``'s headers from its (name, lower-case name, value) triples:
    the caller has checked that it keeps them as httpx since 0.18 and httpx2 do."""
    _TRIPLES.add(headers_class)


def wanted_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The response headers the core reads, by lower-case name (the last of repeated ones)."""
    if type(headers) in _TRIPLES:
        # One C-level pass over httpx's own triples (lower-case names made already);
        # only the wanted values are decoded, not the twenty headers a provider sends.
        values = dict(map(_NAME_VALUE, headers._list))  # type: ignore[attr-defined]
        found = {}
        for name in values.keys() & _WANTED_RAW:
            found[_WANTED_TEXT[name]] = values[name].decode("latin-1")
        return found
    raw = getattr(headers, "raw", None)
    if raw is None:
        return {k.lower(): v for k, v in headers.items() if k.lower() in _WANTED}
    # Other httpx-like headers: scan the raw byte pairs, decode only the wanted ones.
    found = {}
    for key, value in raw:
        key = key.lower()
        if key in _WANTED_RAW:
            found[key.decode("ascii")] = value.decode("latin-1")
    return found


def header_items(headers: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """Every (name, value) pair, repeated names included, of an httpx or plain mapping.

    From httpx headers, each pair is the Latin-1 text of the bytes received, so
    :func:`header_bytes` gives those exact bytes back (httpx's own text guesses
    UTF-8, which does not round-trip every byte).
    """
    raw = getattr(headers, "raw", None)
    if raw is not None:
        return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
    return headers.items()


def header_bytes(pairs: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """The pairs of :func:`header_items` as the bytes they were, for a replayed response.

    Text outside Latin-1 (a value some other code decoded as UTF-8) is sent as UTF-8.
    """
    return [(_as_bytes(name), _as_bytes(value)) for name, value in pairs]


def _as_bytes(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")
