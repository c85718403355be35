"""Cache keys, without any HTTP: which requests share an answer."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tokenbudget.cache import CacheKeyer
from tokenbudget.providers import RequestView

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0.7}


def view(
    body: Any = BODY,
    *,
    headers: dict[str, str] | None = None,
    host: str = "api.openai.com",
    path: str = "/v1/chat/completions",
    query: str = "",
    method: str = "POST",
    port: int | None = None,
) -> RequestView:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = {"authorization": "Bearer sk-one", **(headers or {})}
    return RequestView(method, host, path, port=port, query=query, headers=all_headers, body=raw)


KEYER = CacheKeyer(b"secret")


def key(request: RequestView, keyer: CacheKeyer = KEYER) -> str:
    return keyer.key(request)


def test_a_key_is_a_sha256_hex_digest() -> None:
    found = key(view())
    assert len(found) == 64 and int(found, 16) >= 0


def test_key_order_and_whitespace_do_not_matter() -> None:
    reordered = {"temperature": 0.7, "messages": BODY["messages"], "model": "gpt-4o"}
    spaced = json.dumps(BODY, indent=4).encode()
    assert key(view(reordered)) == key(view(spaced)) == key(view())


@pytest.mark.parametrize(
    "changed",
    [
        {**BODY, "model": "gpt-4o-mini"},
        {**BODY, "temperature": 0.2},
        {**BODY, "messages": [{"role": "user", "content": "Hi!"}]},
        {**BODY, "stream": True},
    ],
)
def test_any_change_to_the_body_changes_the_key(changed: dict[str, Any]) -> None:
    assert key(view(changed)) != key(view())


@pytest.mark.parametrize(
    "other",
    [
        view(method="PUT"),
        view(host="api.groq.com"),
        view(port=8443),
        view(path="/v1/responses"),
        view(query="api-version=2024-10-21"),
    ],
)
def test_method_host_port_path_and_query_count(other: RequestView) -> None:
    assert key(other) != key(view())


@pytest.mark.parametrize("name", ["authorization", "api-key", "x-api-key", "x-goog-api-key"])
def test_each_credential_header_separates_answers(name: str) -> None:
    one = view(headers={name: "secret-one"})
    two = view(headers={name: "secret-two"})
    assert key(one) != key(two)
    assert key(one) == key(view(headers={name: "secret-one"}))


def test_the_gemini_key_query_parameter_is_a_credential() -> None:
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    one = view(host="generativelanguage.googleapis.com", path=path, query="alt=sse&key=AIza-one")
    two = view(host="generativelanguage.googleapis.com", path=path, query="key=AIza-two&alt=sse")
    again = view(host="generativelanguage.googleapis.com", path=path, query="key=AIza-one&alt=sse")
    plain = view(host="generativelanguage.googleapis.com", path=path, query="key=AIza-one")
    assert key(one) != key(two)
    assert key(one) == key(again), "query order does not matter"
    assert key(one) != key(plain), "alt=sse matters"


def test_the_credential_is_hashed_with_the_cache_secret() -> None:
    request = view()
    assert key(request, CacheKeyer(b"a")) != key(request, CacheKeyer(b"b"))
    digest = CacheKeyer(b"a").credential_digest({"authorization": "Bearer sk-one"})
    assert b"sk-one" not in digest and len(digest) == 32


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("anthropic-version", True),
        ("anthropic-beta", True),
        ("openai-beta", True),
        ("openai-organization", True),
        ("x-stainless-retry-count", False),
        ("x-stainless-read-timeout", False),
        ("user-agent", False),
        ("idempotency-key", False),
    ],
)
def test_only_headers_that_change_the_answer_count(name: str, changes: bool) -> None:
    one = view(headers={name: "1"})
    two = view(headers={name: "2"})
    assert (key(one) != key(two)) is changes


def test_extra_vary_headers() -> None:
    keyer = CacheKeyer(b"s", vary_headers=["X-Gateway-Route"])
    one = view(headers={"x-gateway-route": "eu"})
    two = view(headers={"x-gateway-route": "us"})
    assert key(one, keyer) != key(two, keyer)


def test_ignored_fields_top_level_and_nested() -> None:
    keyer = CacheKeyer(b"s", ignore_fields=["user", "metadata.user_id"])
    base = {**BODY, "metadata": {"user_id": "u1", "topic": "x"}, "user": "alice"}
    other_user = {**BODY, "metadata": {"user_id": "u2", "topic": "x"}, "user": "bob"}
    other_topic = {**BODY, "metadata": {"user_id": "u1", "topic": "y"}, "user": "alice"}
    assert key(view(base), keyer) == key(view(other_user), keyer)
    assert key(view(base), keyer) != key(view(other_topic), keyer)
    assert key(view(base)) != key(view(other_user)), "nothing is ignored by default"


def test_ignoring_a_missing_field_or_a_non_object_is_harmless() -> None:
    keyer = CacheKeyer(b"s", ignore_fields=["messages.role", "absent.deep"])
    assert key(view(), keyer) == key(view(), CacheKeyer(b"s"))


def test_a_body_that_is_not_json_is_keyed_on_its_bytes() -> None:
    assert key(view(b"--boundary\r\nx")) != key(view(b"--boundary\r\ny"))
    assert key(view(b"null")) != key(view(b"raw:null"))


def test_the_variant_separates_keys() -> None:
    assert KEYER.key(view(), variant="usage") != KEYER.key(view())


def test_parts_cannot_run_into_each_other() -> None:
    """Length-prefixed parts: moving a byte from the path to the query changes the key."""
    one = view(path="/v1/chat", query="a=b")
    two = view(path="/v1/cha", query="ta=b")
    assert key(one) != key(two)


def test_the_credential_memo_is_bounded_and_keeps_keys_exact() -> None:
    keyer = CacheKeyer(b"memo")
    first = [keyer.key(view(headers={"authorization": f"Bearer sk-{n}"})) for n in range(200)]
    again = [keyer.key(view(headers={"authorization": f"Bearer sk-{n}"})) for n in range(200)]
    assert first == again and len(set(first)) == 200
    assert len(keyer._digests) <= 64
    fresh = CacheKeyer(b"memo")
    assert [
        fresh.key(view(headers={"authorization": f"Bearer sk-{n}"})) for n in range(200)
    ] == first


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_the_credential_memo_is_never_pickled(protocol: int) -> None:
    keyer = CacheKeyer(b"memo")
    request = view(headers={"authorization": "Bearer sk-in-clear"})
    expected = keyer.key(request)
    data = pickle.dumps(keyer, protocol)
    assert b"sk-in-clear" not in data
    restored = pickle.loads(data)
    assert len(restored._digests) == 0 and restored.key(request) == expected
    assert len(copy.deepcopy(keyer)._digests) == 0


def test_the_credential_memo_is_never_shown() -> None:
    keyer = CacheKeyer(b"memo")
    keyer.key(view(headers={"authorization": "Bearer sk-in-clear"}))
    shown = [repr(keyer), repr(keyer._digests), str(keyer._digests), f"{keyer._digests}"]
    assert not any("sk-in-clear" in text for text in shown)


@settings(deadline=None)  # no timing: a loaded machine must not fail it
@given(
    name=st.sampled_from(["key", "token", "auth", "secret", "signature", "cookie", "session"]),
    before=st.text(alphabet="abcxyz-_", max_size=6),
    after=st.text(alphabet="abcxyz-_", max_size=6),
    upper=st.booleans(),
)
def test_any_header_naming_a_credential_parts_the_key(
    name: str, before: str, after: str, upper: bool
) -> None:
    header = f"x-{before}{name}{after}"
    header = header.upper() if upper else header
    assume(header.lower() not in {"x-idempotency-key"})
    one = view(headers={header: "tenant-1"})
    two = view(headers={header: "tenant-2"})
    assert key(one) != key(two)
    assert key(one) == key(view(headers={header: "tenant-1"}))
    shared = CacheKeyer(b"s", per_account=False)
    assert key(one, shared) == key(two, shared), "recordings leave every credential out"


def test_chosen_vary_headers_are_kept_without_accounts_and_hashed_with_the_secret() -> None:
    one = view(headers={"x-tenant": "acme"})
    two = view(headers={"x-tenant": "globex"})
    shared = CacheKeyer(b"s", vary_headers=["X-Tenant"], per_account=False)
    assert key(one, shared) != key(two, shared)
    other_secret = CacheKeyer(b"t", vary_headers=["X-Tenant"], per_account=False)
    assert key(one, shared) != key(one, other_secret), "the value is hashed with the secret"


@pytest.mark.parametrize("param", ["key", "api_key", "access_token", "sig", "subscription-key"])
def test_query_credentials_are_hashed_not_kept(param: str) -> None:
    one = view(query=f"alt=sse&{param}=ONE")
    two = view(query=f"alt=sse&{param}=TWO")
    assert key(one) != key(two)
    shared = CacheKeyer(b"s", per_account=False)
    assert key(one, shared) == key(two, shared)


def test_a_cdn_cookie_names_no_caller() -> None:
    """OpenAI's answers set Cloudflare's ``__cf_bm``; httpx sends it back on the next call."""
    bare = view()
    with_cdn = view(headers={"cookie": "__cf_bm=abc; _cfuvid=xyz"})
    assert key(bare) == key(with_cdn)
    assert key(view(headers={"cookie": "__cf_bm=abc; session=1"})) != key(
        view(headers={"cookie": "__cf_bm=abc; session=2"})
    )
