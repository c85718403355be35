"""What each SDK generation does with http clients: the families it accepts, how it sends.

Read from the SDKs' own code, release by release (the spans below name the first
release of each behaviour):

=============  =================  ================================================
SDK            releases           ``http_client`` (google-genai: ``HttpOptions``)
=============  =================  ================================================
openai         < 2.47             ``httpx.Client`` only (``TypeError`` otherwise)
openai         >= 2.47            ``httpx.Client`` or ``httpx2.Client``
anthropic      < 1.0              ``httpx.Client`` only
anthropic      >= 1.0             ``httpx2.Client`` only
google-genai   < 1.46             takes no http client (nothing to choose)
google-genai   1.46 - 2.17        ``httpx_client=httpx.Client`` only
google-genai   >= 2.18            ``httpx.Client`` or ``httpx2.Client``
=============  =================  ================================================

:func:`choose_family` picks the family a new tracked client gets when the caller
names none: one that every installed SDK accepts, httpx2 first.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from importlib import metadata

__all__ = [
    "GOOGLE_KINDS",
    "SDK_FAMILIES",
    "FamilyConflict",
    "accepted_families",
    "choose_family",
    "google_transport_kind",
    "installed_version",
    "parse_version",
]

Version = tuple[int, ...]

#: Per distribution, ``(first release, families its http_client accepts)``, oldest
#: first; ``None`` for releases that take no http client at all.
SDK_FAMILIES: Mapping[str, Sequence[tuple[Version, frozenset[str] | None]]] = {
    "openai": (((0,), frozenset({"httpx"})), ((2, 47), frozenset({"httpx", "httpx2"}))),
    "anthropic": (((0,), frozenset({"httpx"})), ((1,), frozenset({"httpx2"}))),
    "google-genai": (
        ((0,), None),
        ((1, 46), frozenset({"httpx"})),
        ((2, 18), frozenset({"httpx", "httpx2"})),
    ),
}

#: How google-genai sends, by release (see :func:`google_transport_kind`).
GOOGLE_KINDS: Sequence[tuple[Version, str]] = (
    ((0,), "requests"),
    ((1, 6), "httpx-per-call"),
    ((1, 7), "httpx"),
)


class FamilyConflict(RuntimeError):
    """The installed SDKs accept no common httpx family: the caller must name one."""


def parse_version(text: str) -> Version:
    """``"1.30.0"`` -> ``(1, 30, 0)``; pre-release and local parts are dropped."""
    match = re.match(r"\d+(?:\.\d+)*", text.strip())
    if match is None:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part) for part in match.group().split("."))


@functools.cache
def installed_version(distribution: str) -> Version | None:
    """The installed release of ``distribution``, or ``None``; looked up once per process."""
    try:
        return parse_version(metadata.version(distribution))
    except (metadata.PackageNotFoundError, ValueError):
        return None


def _span(spans: Sequence[tuple[Version, object]], version: Version) -> object:
    found: object = spans[0][1]
    for first, value in spans:
        if version >= first:
            found = value
    return found


def accepted_families(distribution: str, version: Version) -> frozenset[str] | None:
    """The families ``distribution`` at ``version`` accepts as its http client (``None``: any)."""
    spans = SDK_FAMILIES.get(distribution)
    if spans is None:
        return None
    accepted: frozenset[str] | None = _span(spans, version)  # type: ignore[assignment]
    return accepted


def google_transport_kind(version: Version | str) -> str:
    """How google-genai at ``version`` sends its requests.

    ``"requests"`` (1.0-1.5): sync calls through ``requests`` (1.3-1.5 make async
    calls with a new ``httpx.AsyncClient`` per call); ``"httpx-per-call"`` (1.6): a
    new ``httpx.Client``/``AsyncClient`` per call; ``"httpx"`` (1.7 on): httpx
    clients kept on the client's ``_api_client`` (``_httpx_client`` and
    ``_async_httpx_client``). From 1.21, async calls go through aiohttp instead
    when it is installed, unless the SDK is told otherwise.
    """
    if isinstance(version, str):
        version = parse_version(version)
    kind: str = _span(GOOGLE_KINDS, version)  # type: ignore[assignment]
    return kind


def choose_family(
    available: Sequence[str], versions: Mapping[str, Version | None] | None = None
) -> str:
    """The first of ``available`` (in preference order) that every installed SDK accepts.

    ``versions`` maps distributions to their installed release (default: what is
    installed). Raises :class:`FamilyConflict`, naming who wants what, when none fits.
    """
    if versions is None:
        versions = {name: installed_version(name) for name in SDK_FAMILIES}
    wants: dict[str, frozenset[str]] = {}
    for distribution, version in versions.items():
        accepted = None if version is None else accepted_families(distribution, version)
        if accepted is not None and version is not None:
            wants[f"{distribution} {'.'.join(map(str, version))}"] = accepted
    for name in available:
        if all(name in accepted for accepted in wants.values()):
            return name
    said = "; ".join(
        f"{sdk} accepts only {' or '.join(sorted(accepted))}"
        for sdk, accepted in wants.items()
        if not accepted.issuperset(available)
    )
    raise FamilyConflict(
        f"tokenbudget: no httpx family suits every installed SDK ({said}; installed "
        f"families: {', '.join(available) or 'none'}). Name the one the SDK you give the "
        'client to accepts: tracker.httpx_client(family="httpx") or family="httpx2"'
    )
