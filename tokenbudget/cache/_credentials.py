"""Which request headers and query parameters carry a credential (and so part the cache key).

A credential names who is asking: two callers with different ones must never
share an answer, and its value must never be stored. Besides the well-known
names (:data:`CREDENTIAL_HEADERS`, :data:`CREDENTIAL_QUERY`), any name containing
one of :data:`CREDENTIAL_WORDS` counts, case-insensitively: gateways and proxies
invent their own (``Ocp-Apim-Subscription-Key``, ``x-portkey-api-key``,
``cf-aig-authorization``, ``Cookie``...). A false positive costs only cache hits
(the value still parts the key), a false negative leaks answers across tenants,
so the rule is broad. The names in :data:`NOT_CREDENTIALS` vary per attempt
without naming anyone (an idempotency key) and would defeat the cache, and so
would the load balancers' cookies an httpx client sends back once a provider has
set them (:data:`CDN_COOKIES`: Cloudflare's ``__cf_bm`` on OpenAI's answers):
they are left out of a ``Cookie`` value.
"""

from __future__ import annotations

from .._core import CREDENTIAL_WORDS

__all__ = [
    "CDN_COOKIES",
    "CREDENTIAL_HEADERS",
    "CREDENTIAL_QUERY",
    "CREDENTIAL_WORDS",
    "NOT_CREDENTIALS",
    "is_credential_name",
    "without_cdn_cookies",
]

#: Well-known credential headers. The first four are hashed in this order (key format).
CREDENTIAL_HEADERS = (
    "authorization",
    "api-key",
    "x-api-key",
    "x-goog-api-key",
    "proxy-authorization",
    "cookie",
    "ocp-apim-subscription-key",
    "x-portkey-api-key",
)
#: Well-known credential query parameters (Gemini's ``?key=``, Azure SAS's ``sig``).
CREDENTIAL_QUERY = frozenset(("key", "sig"))
#: A header or parameter whose name contains one of :data:`CREDENTIAL_WORDS` (the
#: same words the error-text scrubber goes by) carries a credential, except these.
NOT_CREDENTIALS = frozenset(("idempotency-key", "x-idempotency-key"))


def is_credential_name(name: str, known: frozenset[str] | tuple[str, ...] = ()) -> bool:
    """True when the header or parameter ``name`` carries a credential.

    ``known``: names that count whatever they are called (the well-known list).
    """
    folded = name.lower()
    if folded in known:
        return True
    if folded in NOT_CREDENTIALS:
        return False
    return any(word in folded for word in CREDENTIAL_WORDS)


#: Cookies set by CDNs and load balancers in front of providers: they name no caller.
CDN_COOKIES = frozenset(
    (b"__cf_bm", b"_cfuvid", b"__cflb", b"cf_clearance", b"awsalb", b"awsalbcors")
)


def without_cdn_cookies(value: bytes) -> bytes:
    """A ``Cookie`` header value without the :data:`CDN_COOKIES` (``b""``: none left)."""
    kept = [
        pair
        for pair in value.split(b";")
        if pair.strip() and pair.split(b"=", 1)[0].strip().lower() not in CDN_COOKIES
    ]
    return b";".join(kept).strip()
