"""Pinned cache keys: the key format must not drift.

A disk cache (and a ``--tokenbudget-record`` directory) finds its entries by
key, so any change to how a key is computed silently turns every stored
answer into a miss. The digests below were computed by the key code as it
stood before its speed-ups; they pin the format (part order, framing,
canonical JSON, header folding and joining, the credential HMAC) so that
existing disk caches stay valid. A failure here means keys changed: do not
update the values, restore the format (or bump ``tokenbudget-cache-key-v1``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx2
import pytest

from tokenbudget.cache import CacheKeyer
from tokenbudget.providers import RequestView

SECRET = b"pinned-secret"
CHAT = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say hi"},
    ],
    "temperature": 0,
}
SDK_HEADERS = [
    ("Host", "api.openai.com"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Connection", "keep-alive"),
    ("Accept", "application/json"),
    ("Content-Type", "application/json"),
    ("User-Agent", "OpenAI/Python 1.99.0"),
    ("X-Stainless-Lang", "python"),
    ("X-Stainless-Retry-Count", "0"),
    ("Authorization", "Bearer sk-proj-pinned0123456789"),
    ("OpenAI-Organization", "org-pinned"),
    ("OpenAI-Beta", "assistants=v2"),
    ("Content-Length", "150"),
]


def openai_chat() -> RequestView:
    """A chat request as the transport sees it: httpx headers, mixed-case names."""
    body = json.dumps(CHAT).encode()
    headers = httpx2.Headers(SDK_HEADERS)
    return RequestView("POST", "api.openai.com", "/v1/chat/completions", headers=headers, body=body)


def anthropic_messages() -> RequestView:
    """Repeated and extra vary headers, a port, non-ASCII text, a nested ignored field."""
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "metadata": {"user_id": "u-1", "topic": "café ☃"},
        "messages": [{"role": "user", "content": "héllo \U0001f600"}],
    }
    headers = httpx2.Headers(
        [
            ("x-api-key", "sk-ant-pinned"),
            ("anthropic-version", "2023-06-01"),
            ("anthropic-beta", "tools-2024-04-04"),
            ("Anthropic-Beta", "prompt-caching-2024-07-31"),
            ("X-Gateway-Route", "eu"),
            ("content-type", "application/json"),
        ]
    )
    return RequestView(
        "post",
        "LLM.example.com",
        "/v1/messages",
        port=8443,
        headers=headers,
        body=json.dumps(body, ensure_ascii=False).encode(),
    )


def gemini_stream() -> RequestView:
    """Credentials in the query and in a header; plain-dict headers."""
    return RequestView(
        "POST",
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        query="key=AIza-pinned&alt=sse&b=%20two&a=",
        headers={"x-goog-api-key": "AIza-header", "x-goog-user-project": "proj-pinned"},
        body=b'{"contents": [{"parts": [{"text": "Hi"}]}]}',
    )


def raw_upload() -> RequestView:
    """A body that is not JSON, and no credential at all."""
    return RequestView("PUT", "api.openai.com", "/v1/files", body=b"--b\r\nnot json\xff")


CASES: list[tuple[str, Callable[[], RequestView], CacheKeyer, str, str]] = [
    (
        "openai",
        openai_chat,
        CacheKeyer(SECRET),
        "",
        "865d9caef579d2e074a3c394c0146556cff40dd5721a5dfca128e8650faf4a19",
    ),
    (
        "openai-usage-variant",
        openai_chat,
        CacheKeyer(SECRET),
        "usage",
        "a64446455f96df56338670a2c4497ba4d5e6e7f1e77907319f1beb0b17066496",
    ),
    (
        "openai-shared-accounts",
        openai_chat,
        CacheKeyer(SECRET, per_account=False),
        "",
        "2ec62ed53a4a73e47e712e059f198fa529daf3f5ecda44c7e5019ff87ee10834",
    ),
    (
        # Changed once, on purpose (issue 15): a caller's own vary headers moved from
        # the clear part into the keyed hash (they may name a tenant). Disk caches of
        # that release start empty anyway (entries gained a MAC); recordings never
        # use vary headers, so theirs are unchanged (the shared-accounts cases).
        "anthropic",
        anthropic_messages,
        CacheKeyer(SECRET, ignore_fields=["metadata.user_id"], vary_headers=["X-Gateway-Route"]),
        "",
        "6c71d11d581ea558b9414cfd189dfd4755906563f2763e4abfaa2d4c81ed0877",
    ),
    (
        "gemini",
        gemini_stream,
        CacheKeyer(SECRET),
        "usage",
        "51a54a2b944948951e74dda6050382549e6d6b01b38d294cfdf88f815f774867",
    ),
    (
        "gemini-shared-accounts",
        gemini_stream,
        CacheKeyer(SECRET, per_account=False),
        "",
        "51a0abcf68ecf3e6f4cb7f9b310b67259173a2998f1398f1b2c87de04112b814",
    ),
    (
        "raw-body",
        raw_upload,
        CacheKeyer(b""),
        "",
        "b42ab8fd13e544c4bd11f9e8f7cf9318f0b0f2c9ef6907685efd72c020bdc2fa",
    ),
]


@pytest.mark.parametrize(
    ("build", "keyer", "variant", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_keys_are_pinned(
    build: Callable[[], RequestView], keyer: CacheKeyer, variant: str, expected: str
) -> None:
    assert keyer.key(build(), variant) == expected
    assert keyer.key(build(), variant) == expected, "a second computation agrees"


def test_the_credential_digest_is_pinned() -> None:
    digest = CacheKeyer(SECRET).credential_digest(
        {"Authorization": "Bearer sk-one", "x-api-key": "sk-two"}, [("key", "AIza")]
    )
    assert digest.hex() == "8071db5a1726566b227237aebe424bca4b26168162c1ec904a6981abd98c2000"
