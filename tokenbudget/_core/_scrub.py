"""Error texts without secrets: what a record's ``error`` may keep of an exception's message.

A record's ``error`` reaches stores, exports and logs, but the texts it is made
of are other libraries' (an httpx ``ConnectError`` names the URL it failed on,
query string and all) or the provider's. Before a text is kept,
:func:`scrub_secrets` replaces with ``[redacted]``: URLs' query strings and
fragments, the password of ``user:pass@host``, ``Authorization`` / ``Bearer`` /
``Basic`` credentials, ``key=value`` pairs whose key names a credential
(``key``, ``api_key``, ``token``, ``secret``, ``password``, ``signature``,
``session``, ``cookie``...), and values shaped like API keys (``sk-...``,
``AIza...``, ``ghp_...``, ``xox...``, JWTs, long hex or base64 runs).

It errs on the side of hiding: an error text is for a human to read, so losing
a harmless id in it costs little.
"""

from __future__ import annotations

import re

__all__ = ["CREDENTIAL_WORDS", "REDACTED", "scrub_secrets"]

#: What a hidden value is replaced with.
REDACTED = "[redacted]"
#: A name (header, parameter, field) containing one of these says it holds a
#: credential: its value is scrubbed here and parts the cache key there.
CREDENTIAL_WORDS = (
    "key",
    "token",
    "auth",
    "secret",
    "signature",
    "cookie",
    "session",
    "password",
    "credential",
)

# A URL's query string and fragment (up to whitespace or a closing quote/bracket).
_QUERY = re.compile(
    r"""(?i)(\b[a-z][a-z0-9+.-]*://[^\s'"<>?#]*)[?#](?!\[redacted\])[^\s'"<>)\]}]*"""
)
# user:password@ in a URL's authority.
_USERINFO = re.compile(r"""(?i)(\b[a-z][a-z0-9+.-]*://[^\s/'"<>:@]*):[^\s/'"<>@]*@""")
# Authorization-style headers and schemes: the whole credential after them.
_AUTH_HEADER = re.compile(
    r"""(?i)\b((?:proxy-)?authorization|cookie|set-cookie|x-api-key|api-key|x-goog-api-key)"""
    r"""(["']?\s*[:=]\s*["']?)[^\r\n'")]+"""
)
_SCHEME = re.compile(
    r"""(?i)\b(bearer|basic|token|digest)(\s+)(?!\[redacted\])[A-Za-z0-9._~+/=:-]+"""
)
# name=value, or a quoted "name": "value", where the name says credential. (An unquoted
# "name: value" is left alone: exception texts read "TokenLimitReached: ...", "KeyError: ...".)
_NAME_WORDS = "|".join((*CREDENTIAL_WORDS, "passwd", "pwd", "sig"))  # and the short forms
_CREDENTIAL_NAME = rf"[a-z0-9_.-]*(?:{_NAME_WORDS})[a-z0-9_.-]*"
_NAMED = re.compile(
    rf"""(?i)(\b{_CREDENTIAL_NAME}\s*=\s*["']?|["']{_CREDENTIAL_NAME}["']\s*[:=]\s*["']?)"""
    r"""(?!\[redacted\])[^\s'",;&)}\]]+"""
)
# Values shaped like credentials wherever they stand.
_SHAPED = re.compile(
    r"""(?x)
    \b(?:
        sk-[A-Za-z0-9_-]{8,}                          # OpenAI, Anthropic (sk-ant-...)
      | AIza[0-9A-Za-z_-]{20,}                        # Google API keys
      | (?:gh[pousr]|github_pat)_[A-Za-z0-9_]{16,}    # GitHub tokens
      | xox[abprs]-[A-Za-z0-9-]{10,}                  # Slack tokens
      | eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*   # JWTs
      | [A-Fa-f0-9]{32,}                              # long hex runs
      | [A-Za-z0-9+/_-]{40,}={0,2}                    # long base64 runs
    )
    """
)


def scrub_secrets(text: str) -> str:
    """``text`` with URLs' query strings and credential-looking values replaced.

    Scrubbing a scrubbed text changes nothing.
    """
    text = _QUERY.sub(rf"\1?{REDACTED}", text)
    text = _USERINFO.sub(rf"\1:{REDACTED}@", text)
    text = _AUTH_HEADER.sub(rf"\1\2{REDACTED}", text)
    text = _SCHEME.sub(rf"\1\2{REDACTED}", text)
    text = _NAMED.sub(rf"\1{REDACTED}", text)
    return _SHAPED.sub(REDACTED, text)
