"""Tenants never share answers: every credential a request carries is part of its cache key.

Gateways and proxies take their credential in headers of their own
(``Ocp-Apim-Subscription-Key``, ``x-portkey-api-key``, ``Cookie``...) while the
SDK's API key stays the same for everyone. Each test runs two tenants through
the real openai SDK over one tracker: the second tenant's identical request must
reach the server, and each tenant's repeat must be a hit. No credential value is
ever written to the disk cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM

MESSAGES = [{"role": "user", "content": "What is our plan?"}]


def client(
    tracker: TokenTracker,
    fake: FakeLLM,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> Any:
    http = tracker.httpx_client(transport=fake)
    return openai.OpenAI(
        api_key="sk-shared-gateway-key",
        http_client=http,
        max_retries=0,
        default_headers=headers,
        default_query=query,
    )


def ask(sdk: Any) -> Any:
    return sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES).model_dump()


def assert_apart_then_hits(one: Any, two: Any, fake: FakeLLM) -> None:
    """Two tenants each reach the server once, get their own answer, then hits."""
    assert ask(one) != ask(two)
    assert fake.calls == 2
    ask(one)
    ask(two)
    assert fake.calls == 2


def stored_bytes(folder: Path) -> bytes:
    """Every byte of every file the disk cache wrote under ``folder``."""
    return b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


TENANT_HEADERS = [
    "Ocp-Apim-Subscription-Key",
    "x-portkey-api-key",
    "Cookie",
    "X-Gateway-Token",
    "cf-aig-authorization",
    "X-Session-Id",
    "x-request-signature",
    "X-Client-Secret",
]


@pytest.mark.parametrize("cache", ["memory", "disk"])
@pytest.mark.parametrize("header", TENANT_HEADERS)
def test_tenants_with_different_credential_headers_get_their_own_answers(
    header: str, cache: str, tmp_path: Path
) -> None:
    tracker = TokenTracker(cache=cache, cache_dir=tmp_path if cache == "disk" else None)
    fake = FakeLLM(reply="Plan A.")
    one = client(tracker, fake, {header: "tenant-ONE-SECRET-1111"})
    two = client(tracker, fake, {header: "tenant-TWO-SECRET-2222"})

    first = ask(one)
    second = ask(two)
    assert fake.calls == 2, "tenant two's request reached the server"
    assert second != first
    assert ask(one) == first and ask(two) == second
    assert fake.calls == 2, "each tenant's repeat is a hit"

    if cache == "disk":
        tracker.close()
        stored = stored_bytes(tmp_path)
        assert b"SECRET" not in stored
        assert b"sk-shared" not in stored


def test_credentials_in_the_query_string_separate_tenants(tmp_path: Path) -> None:
    tracker = TokenTracker(cache="disk", cache_dir=tmp_path)
    fake = FakeLLM(reply="Plan B.")
    one = client(tracker, fake, query={"subscription-key": "q-ONE-SECRET", "api-version": "1"})
    two = client(tracker, fake, query={"subscription-key": "q-TWO-SECRET", "api-version": "1"})

    assert_apart_then_hits(one, two, fake)
    tracker.close()
    stored = stored_bytes(tmp_path)
    assert b"SECRET" not in stored


def test_cache_vary_headers_adds_a_header_of_the_callers_choice(tmp_path: Path) -> None:
    fake = FakeLLM(reply="Plan C.")
    tracker = TokenTracker(cache="disk", cache_dir=tmp_path, cache_vary_headers=["X-Tenant"])
    one = client(tracker, fake, {"X-Tenant": "acme-SECRET"})
    two = client(tracker, fake, {"X-Tenant": "globex-SECRET"})

    assert_apart_then_hits(one, two, fake)
    tracker.close()
    stored = stored_bytes(tmp_path)
    assert b"SECRET" not in stored and b"acme" not in stored


def test_a_header_that_names_no_credential_is_shared_unless_asked_for() -> None:
    """Why ``cache_vary_headers`` exists: ``X-Tenant`` alone says nothing about access."""
    fake = FakeLLM(reply="Plan D.")
    tracker = TokenTracker(cache="memory")
    assert ask(client(tracker, fake, {"X-Tenant": "acme"})) == ask(
        client(tracker, fake, {"X-Tenant": "globex"})
    )
    assert fake.calls == 1


def test_the_sdks_per_request_headers_do_not_defeat_the_cache() -> None:
    """Headers SDKs vary per attempt (retry counts, idempotency keys) are not credentials."""
    fake = FakeLLM(reply="Plan E.")
    tracker = TokenTracker(cache="memory")
    sdk = client(tracker, fake)
    first = sdk.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, extra_headers={"Idempotency-Key": "one"}
    )
    second = sdk.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, extra_headers={"Idempotency-Key": "two"}
    )
    assert second.model_dump() == first.model_dump()
    assert fake.calls == 1
