"""Cache keys: which requests share an answer (sans-IO: a :class:`RequestView` in, a hex key out).

A key is the SHA-256 of, in order and each part length-prefixed (so no two
different requests can spell the same byte string):

1. a format tag (``tokenbudget-cache-key-v1``) and a *variant* given by the
   caller (what the tracker does to the request, e.g. injecting stream usage);
2. the method, ``host[:port]`` and path;
3. the query string, parsed, without its credentials, sorted;
4. the built-in headers that change the answer (:data:`VARY_HEADERS`);
5. the body: canonical JSON (sorted keys, no insignificant whitespace, fields
   in ``ignore_fields`` removed), or the raw bytes when it is not JSON;
6. a keyed hash of who is asking: every credential-bearing header (the
   well-known :data:`CREDENTIAL_HEADERS` and any name containing ``key``,
   ``token``, ``auth``, ``secret``, ``signature``, ``cookie``, ``session``...: see
   ``_credentials``), the query's credentials (``?key=``, ``?sig=``...) and the
   caller's own ``vary_headers``: ``HMAC-SHA256(secret, ...)``, where ``secret``
   is per cache (random per memory cache; a 0600 file in a disk cache's directory).

Two API keys therefore never share an answer, and the credential itself is
never stored: the key is a one-way hash of a keyed hash. (A keyer remembers the
last few digests in memory, to skip the HMAC per call; that memo is never
pickled, copied or shown.)

A request repeated byte for byte skips the canonical JSON: a keyer remembers,
in memory only, the SHA-256 state after parts 1-5 under the parts that are not
the body (parts 1-4, credentials left out of the query) and the SHA-256 of the
raw body bytes, so a repeat hashes its raw body once, finishes that state with
part 6 and is done. No credential enters that memo (part 6 is hashed after it);
a body that differs in any byte (other whitespace, key order, an ignored field)
misses it and is canonicalised, and so still finds the same key. In front of
both, a request whose every part is as it came before (its raw httpx headers
too, credentials included, and its body itself up to 4 KiB, its SHA-256 above:
kept like the digests' memo, in memory only, never pickled, copied or shown)
finds its whole key in one lookup, without hashing its body when it is short.

``per_account=False`` leaves out who is asking: the credentials in part 6 and
the account headers (:data:`ACCOUNT_HEADERS`), so that answers recorded with one API key are found
with another (the pytest plugin's ``--tokenbudget-record`` / ``--tokenbudget-replay``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from .._core import RequestView
from ._credentials import (
    CREDENTIAL_HEADERS,
    CREDENTIAL_QUERY,
    is_credential_name,
    without_cdn_cookies,
)

__all__ = [
    "ACCOUNT_HEADERS",
    "CREDENTIAL_HEADERS",
    "CREDENTIAL_QUERY",
    "VARY_HEADERS",
    "CacheKeyer",
]

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
# Hashed first, in this order, so that keys made before other names counted stay the same.
_FIRST_CREDENTIALS = tuple(name.encode() for name in CREDENTIAL_HEADERS[:4])
_KNOWN_CREDENTIALS = frozenset(CREDENTIAL_HEADERS)
_MEMO_SIZE = 64
_NAMES_MEMO_SIZE = 512
_BODIES_MEMO_SIZE = 1024
_KEYS_MEMO_SIZE = 1024
# Bodies up to this size are kept whole in the whole-key memo (at most 4 MiB of them).
_EXACT_BODY_SIZE = 4096
# What a request header is to the key (see ``CacheKeyer._kind``).
_VARY, _CREDENTIAL, _CHOSEN = 1, 2, 3
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


class _KeyMemo(dict[tuple[str, str, str, int | None, str, str, tuple[Any, ...], int, bytes], str]):
    """Keys by requests exactly as they came (credentials in clear, as in
    :class:`_DigestMemo`): pickled or copied empty, never shown. Bounded by clearing
    it when full; thread-safe as :class:`_DigestMemo` is."""

    __slots__ = ()

    def __reduce__(self) -> tuple[type[_KeyMemo], tuple[()]]:
        return _KeyMemo, ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self)} keys>"


class _StateMemo(dict[tuple[str, str, str, str, bytes, bytes, bytes], Any]):
    """Hash states by the parts of a request up to its body: pickled or copied empty.

    The states cannot be pickled, and are worth nothing anywhere else. Bounded
    like :class:`_DigestMemo`, with the same thread safety.
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[type[_StateMemo], tuple[()]]:
        return _StateMemo, ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self)} states>"


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
        secret: the per-cache secret credentials are hashed with.
        ignore_fields: JSON body fields that do not change the answer, as top-level
            names (``"user"``) or dotted paths into objects (``"metadata.user_id"``).
        vary_headers: more request headers that part answers (a tenant id, a
            gateway route): hashed with ``secret`` like the credentials, and kept
            with ``per_account=False`` too.
        per_account: ``False`` keys requests without their credentials and
            account headers: every account shares answers (recordings).
    """

    __slots__ = (
        "_bodies",
        "_chosen",
        "_digests",
        "_ignore",
        "_keys",
        "_kinds",
        "_per_account",
        "_secret",
        "_vary",
    )

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
        builtin = sorted(VARY_HEADERS if per_account else set(VARY_HEADERS) - ACCOUNT_HEADERS)
        # (lookup name, "name:") per built-in vary header, in key order.
        self._vary = tuple((name.encode(), name.encode() + b":") for name in builtin)
        self._chosen = frozenset(name.lower() for name in vary_headers) - set(VARY_HEADERS)
        # What each raw header name seen so far is to the key: (kind or 0, folded name).
        self._kinds: dict[bytes, tuple[int, bytes]] = {}
        self._digests = _DigestMemo()
        # The SHA-256 state after the parts up to the body, by the other parts and the
        # raw body's digest: a byte-identical repeat skips the canonical JSON.
        self._bodies = _StateMemo()
        # Whole keys by the request exactly as it came (its raw headers, credentials
        # included, as in ``_digests``): a call repeated byte for byte (a cache hit's
        # usual shape) is one lookup. Kept like ``_digests``: in memory only.
        self._keys = _KeyMemo()

    @property
    def ignores_fields(self) -> bool:
        """True when some body fields are left out of keys (``ignore_fields``)."""
        return bool(self._ignore)

    def key(self, request: RequestView, variant: str = "") -> str:
        """The hex SHA-256 key of ``request`` (``variant``: how the tracker alters it)."""
        raw = getattr(request.headers, "raw", None)
        body = request.body
        if raw is None:  # (headers that are not httpx's: no raw list to remember)
            return self._key(request, variant, hashlib.sha256(body).digest())
        size = len(body)
        # A short body stands for itself (hashing it for the memo costs less than
        # a SHA-256 object); a longer one for its digest. The size tells them apart.
        exact = (
            variant,
            request.method,
            request.host,
            request.port,
            request.path,
            request.query,
            tuple(raw),
            size,
            body if size <= _EXACT_BODY_SIZE else hashlib.sha256(body).digest(),
        )
        keys = self._keys
        key = keys.get(exact)
        if key is None:
            key = self._key(request, variant, hashlib.sha256(body).digest())
            if len(keys) >= _KEYS_MEMO_SIZE:
                keys.clear()
            keys[exact] = key
        return key

    def _key(self, request: RequestView, variant: str, body_digest: bytes) -> str:
        query, query_credentials = self._split_query(request.query)
        vary_found, private = self._sorted_headers(request.headers)
        vary = (
            b"\n".join([label + vary_found[key] for key, label in self._vary if key in vary_found])
            if vary_found
            else b""
        )
        host_port = request.host_port
        # Everything but the credentials: no secret is ever a key of this memo.
        fast = (
            variant,
            request.method,
            host_port,
            request.path,
            query,
            vary,
            body_digest,
        )
        bodies = self._bodies
        state = bodies.get(fast)
        if state is None:
            parts = (
                _KEY_TAG,
                variant.encode(),
                request.method.encode(),
                host_port.encode(),
                request.path.encode(),
                query,
                vary,
                self._body_part(request),
            )
            state = hashlib.sha256(_frame(parts))
            if len(bodies) >= _BODIES_MEMO_SIZE:
                bodies.clear()
            bodies[fast] = state
        state = state.copy()
        private_part = self._private_part(private, query_credentials)
        state.update(len(private_part).to_bytes(8, "big") + private_part)
        return state.hexdigest()

    def credential_digest(
        self, headers: Mapping[str, str], query_credentials: Iterable[tuple[str, str]] = ()
    ) -> bytes:
        """``HMAC-SHA256(secret, credentials)``: equal for equal credentials, one-way."""
        return self._credential_digest(self._sorted_headers(headers)[1], query_credentials)

    def _private_part(
        self, private: dict[bytes, bytes], query_credentials: list[tuple[str, str]]
    ) -> bytes:
        if self._per_account or private:
            return self._credential_digest(private, query_credentials)
        return b""

    def _credential_digest(
        self, headers: dict[bytes, bytes], query_credentials: Iterable[tuple[str, str]]
    ) -> bytes:
        found: list[bytes] = []
        for name in _FIRST_CREDENTIALS:
            value = headers.get(name)
            if value is not None:
                found += (name, value)
        for name in sorted(headers):
            if name not in _FIRST_CREDENTIALS:
                found += (name, headers[name])
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

    def _sorted_headers(
        self, headers: Mapping[str, str]
    ) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
        """The built-in vary headers, and the private ones (credentials and chosen
        headers), by lower-case name, in one pass over the raw headers.

        httpx's ``get`` decodes every header per call; its ``raw`` list is read
        once here, and each raw name is classified once per keyer. A repeated
        header's values are joined with ``", "`` as httpx does.
        """
        raw = getattr(headers, "raw", None)
        items: Iterable[tuple[bytes, bytes]] = (
            raw if raw is not None else [(k.encode(), v.encode()) for k, v in headers.items()]
        )
        kinds = self._kinds
        vary: dict[bytes, bytes] = {}
        private: dict[bytes, bytes] = {}
        for raw_name, value in items:
            known = kinds.get(raw_name)
            kind, name = known if known is not None else self._kind(raw_name)
            if kind:
                found = vary if kind == _VARY else private
                found[name] = found[name] + b", " + value if name in found else value
        cookie = private.get(b"cookie")
        if cookie is not None:
            cookie = without_cdn_cookies(cookie)
            if cookie:
                private[b"cookie"] = cookie
            else:
                del private[b"cookie"]
        return vary, private

    def _kind(self, raw_name: bytes) -> tuple[int, bytes]:
        """What header ``raw_name`` is to the key, and its folded name (memoized)."""
        name = _latin1_lower(raw_name)
        text = name.decode("latin-1")
        kind = 0
        if text in VARY_HEADERS:
            if self._per_account or text not in ACCOUNT_HEADERS:
                kind = _VARY
        elif text in self._chosen:
            kind = _CHOSEN
        elif self._per_account and is_credential_name(text, _KNOWN_CREDENTIALS):
            kind = _CREDENTIAL
        kinds = self._kinds
        if len(kinds) >= _NAMES_MEMO_SIZE:
            kinds.clear()
        kinds[raw_name] = (kind, name)
        return kind, name

    @staticmethod
    def _split_query(query: str) -> tuple[bytes, list[tuple[str, str]]]:
        """The query without credentials (canonical bytes) and the credentials apart."""
        if not query:
            return b"", []
        pairs = parse_qsl(query, keep_blank_values=True)
        kept: list[tuple[str, str]] = []
        credentials: list[tuple[str, str]] = []
        for pair in pairs:
            is_credential = is_credential_name(pair[0], CREDENTIAL_QUERY)
            (credentials if is_credential else kept).append(pair)
        return canonical_json(sorted(kept)), credentials

    def _body_part(self, request: RequestView) -> bytes:
        document = request.json
        if document is None:
            return b"raw:" + request.body
        if self._ignore:
            document = without_fields(document, self._ignore)
        return b"json:" + canonical_json(document)
