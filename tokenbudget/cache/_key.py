"""Cache keys: which requests share an answer (sans-IO: a :class:`RequestView` in, a hex key out).

A key is the SHA-256 of, in order and each part length-prefixed (so no two
different requests can spell the same byte string):

1. a format tag (``tokenbudget-cache-key-v1``) and a *variant* given by the
   caller (what the tracker does to the request, e.g. injecting stream usage);
2. the method, ``host[:port]`` and path;
3. the query string, parsed, without the ``key`` credential, sorted;
4. the headers that change the answer (:data:`VARY_HEADERS`, plus any asked for);
5. the body: canonical JSON (sorted keys, no insignificant whitespace, fields
   in ``ignore_fields`` removed), or the raw bytes when it is not JSON;
6. a keyed hash of the credential (:data:`CREDENTIAL_HEADERS` and the ``key``
   query parameter): ``HMAC-SHA256(secret, credential)``, where ``secret`` is
   per cache (random per memory cache; a file in a disk cache's directory).

Two API keys therefore never share an answer, and the credential itself is
never stored: the key is a one-way hash of a keyed hash. (A keyer remembers the
last few digests in memory, to skip the HMAC per call; that memo is never
pickled, copied or shown.)

``per_account=False`` leaves out who is asking: part 6 and the account headers
(:data:`ACCOUNT_HEADERS`), so that answers recorded with one API key are found
with another (the pytest plugin's ``--tokenbudget-record`` / ``--tokenbudget-replay``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from .._core import RequestView

__all__ = [
    "ACCOUNT_HEADERS",
    "CREDENTIAL_HEADERS",
    "CREDENTIAL_QUERY",
    "VARY_HEADERS",
    "CacheKeyer",
]

#: Request headers carrying a credential: hashed into the key, never stored.
CREDENTIAL_HEADERS = ("authorization", "api-key", "x-api-key", "x-goog-api-key")
#: Query parameters carrying a credential (Gemini's ``?key=``).
CREDENTIAL_QUERY = frozenset(("key",))
#: Request headers that change the answer (API version, beta features, account).
VARY_HEADERS = (
    "anthropic-version",
    "anthropic-beta",
    "openai-beta",
    "openai-organization",
    "openai-project",
    "x-goog-user-project",
)
#: The headers of :data:`VARY_HEADERS` that name an account, left out with ``per_account=False``.
ACCOUNT_HEADERS = frozenset(("openai-organization", "openai-project", "x-goog-user-project"))

_KEY_TAG = b"tokenbudget-cache-key-v1"
_CREDENTIAL_TAG = b"tokenbudget-credential-v1"
_CREDENTIAL_NAMES = tuple(name.encode() for name in CREDENTIAL_HEADERS)
_MEMO_SIZE = 64
# What json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _frame(parts: Iterable[bytes]) -> bytes:
    """The parts joined unambiguously: each prefixed with its length."""
    return b"".join([len(part).to_bytes(8, "big") + part for part in parts])


def canonical_json(document: Any) -> bytes:
    """``document`` as canonical JSON: sorted keys, no whitespace, UTF-8."""
    return _CANONICAL.encode(document).encode("utf-8", "surrogatepass")


def _latin1_lower(name: bytes) -> bytes:
    """``name`` lower-cased as Latin-1 text (``bytes.lower`` folds ASCII only)."""
    return name.decode("latin-1").lower().encode("latin-1")


def _header_key(name: str) -> bytes | None:
    """How a wanted header name is looked up; ``None``: no raw header can match it."""
    try:
        return name.encode("latin-1")
    except UnicodeEncodeError:  # raw names fold to Latin-1 text: this one never matches
        return None


class _DigestMemo(dict[tuple[bytes, ...], bytes]):
    """Credential digests by credentials, held in clear: pickled or copied empty, never shown.

    Bounded by clearing it when full. Each dict operation is atomic, so threads
    sharing a keyer at worst compute a digest twice or briefly keep a few more.
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[type[_DigestMemo], tuple[()]]:
        return _DigestMemo, ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self)} digests>"


def without_fields(document: Any, paths: Iterable[tuple[str, ...]]) -> Any:
    """A copy of ``document`` without the fields at ``paths`` (nested dicts only)."""
    for path in paths:
        document = _drop(document, path)
    return document


def _drop(document: Any, path: tuple[str, ...]) -> Any:
    if not isinstance(document, Mapping) or path[0] not in document:
        return document
    head, rest = path[0], path[1:]
    copy = dict(document)
    if rest:
        copy[head] = _drop(copy[head], rest)
    else:
        del copy[head]
    return copy


class CacheKeyer:
    """Computes the cache key of a request; see the module docstring for what goes in.

    Args:
        secret: the per-cache secret the credential is hashed with.
        ignore_fields: JSON body fields that do not change the answer, as top-level
            names (``"user"``) or dotted paths into objects (``"metadata.user_id"``).
        vary_headers: request headers that change the answer, added to
            :data:`VARY_HEADERS`.
        per_account: ``False`` keys requests without their credential and
            account headers: every account shares answers (recordings).
    """

    __slots__ = ("_digests", "_fold", "_ignore", "_per_account", "_secret", "_vary", "_wanted")

    def __init__(
        self,
        secret: bytes = b"",
        *,
        ignore_fields: Iterable[str] = (),
        vary_headers: Iterable[str] = (),
        per_account: bool = True,
    ) -> None:
        self._secret = secret
        self._per_account = per_account
        self._ignore = tuple(tuple(field.split(".")) for field in ignore_fields)
        extra = tuple(name.lower() for name in vary_headers)
        vary = set(VARY_HEADERS + extra)
        names = sorted(vary if per_account else vary - ACCOUNT_HEADERS)
        keys = map(_header_key, [*names, *CREDENTIAL_HEADERS])
        wanted = [key for key in keys if key is not None]
        self._wanted = frozenset(wanted)
        # (lookup name, "name:") per vary header a raw header can match, in key order.
        self._vary = tuple(
            (key, name.encode() + b":") for name in names if (key := _header_key(name)) is not None
        )
        ascii_only = all(name.isascii() for name in wanted)
        self._fold: Callable[[bytes], bytes] = bytes.lower if ascii_only else _latin1_lower
        self._digests = _DigestMemo()

    def key(self, request: RequestView, variant: str = "") -> str:
        """The hex SHA-256 key of ``request`` (``variant``: how the tracker alters it)."""
        query, query_credentials = self._split_query(request.query)
        headers = self._wanted_headers(request.headers)
        vary = b"\n".join([label + headers[key] for key, label in self._vary if key in headers])
        parts = (
            _KEY_TAG,
            variant.encode(),
            request.method.encode(),
            request.host_port.encode(),
            request.path.encode(),
            query,
            vary,
            self._body_part(request),
            self._credential_digest(headers, query_credentials) if self._per_account else b"",
        )
        return hashlib.sha256(_frame(parts)).hexdigest()

    def credential_digest(
        self, headers: Mapping[str, str], query_credentials: Iterable[tuple[str, str]] = ()
    ) -> bytes:
        """``HMAC-SHA256(secret, credentials)``: equal for equal credentials, one-way."""
        return self._credential_digest(self._wanted_headers(headers), query_credentials)

    def _credential_digest(
        self, headers: Mapping[bytes, bytes], query_credentials: Iterable[tuple[str, str]]
    ) -> bytes:
        found: list[bytes] = []
        for name in _CREDENTIAL_NAMES:
            value = headers.get(name)
            if value is not None:
                found += (name, value)
        for param, text in sorted(query_credentials):
            found += (b"?" + param.encode(), text.encode("utf-8", "surrogateescape"))
        # Names and values alternate, so the tuple is as unambiguous as the framed message.
        credentials = tuple(found)
        memo = self._digests
        digest = memo.get(credentials)
        if digest is None:
            message = _CREDENTIAL_TAG + _frame(found)
            digest = hmac.new(self._secret, message, hashlib.sha256).digest()
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[credentials] = digest
        return digest

    def _wanted_headers(self, headers: Mapping[str, str]) -> dict[bytes, bytes]:
        """The credential and vary headers by lower-case name, in one pass over the raw headers.

        httpx's ``get`` decodes every header per call; its ``raw`` list is read
        once here, and names are lower-cased as bytes. A repeated header's values
        are joined with ``", "`` as httpx does.
        """
        wanted = self._wanted
        fold = self._fold
        raw = getattr(headers, "raw", None)
        items: Iterable[tuple[bytes, bytes]] = (
            raw if raw is not None else [(k.encode(), v.encode()) for k, v in headers.items()]
        )
        found: dict[bytes, bytes] = {}
        for raw_name, value in items:
            name = fold(raw_name)
            if name in wanted:
                found[name] = found[name] + b", " + value if name in found else value
        return found

    @staticmethod
    def _split_query(query: str) -> tuple[bytes, list[tuple[str, str]]]:
        """The query without credentials (canonical bytes) and the credentials apart."""
        if not query:
            return b"", []
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = sorted(pair for pair in pairs if pair[0] not in CREDENTIAL_QUERY)
        credentials = [pair for pair in pairs if pair[0] in CREDENTIAL_QUERY]
        return canonical_json(kept), credentials

    def _body_part(self, request: RequestView) -> bytes:
        document = request.json
        if document is None:
            return b"raw:" + request.body
        if self._ignore:
            document = without_fields(document, self._ignore)
        return b"json:" + canonical_json(document)
