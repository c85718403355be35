"""A refusal reaches the caller as the budget error itself: at once, nothing sent, no SDK retry.

Through every installed SDK (whichever generation: the compatibility matrix
reruns this file under openai 1.40 / 2.x / 3.0 / 3.14, anthropic 0.40 / 1.x,
google-genai 1.x / 2.x), sync and async, plain and streamed, over both httpx
families where the SDK takes them, with the SDK's default retries
(``max_retries=2``: a retried refusal would sleep about a second). The server
is a real loopback one, so "nothing sent" counts what arrived at it.
"""

from __future__ import annotations

import importlib.util
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tokenbudget import (
    BudgetExceeded,
    TokenBudgetError,
    TokenLimitReached,
    TokenTracker,
    budget,
    budget_refusal,
)
from tokenbudget.budgets import Amount

from ..loopback import LoopbackServer
from .sdk_calls import SDKS, Sdk, run, running_server, send_hooks, version

#: The base error of each SDK whose newer releases re-raise it untouched from ``send``.
BASE_ERRORS = {"openai": ("openai", "OpenAIError"), "anthropic": ("anthropic", "AnthropicError")}
#: The longest a refusal may take: a retry sleep of the SDKs is 0.5 s at least.
AT_ONCE = 0.2
LIMITS = {
    "cost": (BudgetExceeded, {"max_cost_usd": "0.000000001"}),
    "tokens": (TokenLimitReached, {"max_tokens": 1}),
}


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with running_server() as running:
        yield running


def sdk_params() -> list[Any]:
    return [pytest.param(sdk, id=sdk.name) for sdk in SDKS]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("family", ["httpx", "httpx2"])
@pytest.mark.parametrize("limit", ["cost", "tokens"])
@pytest.mark.parametrize("sdk", sdk_params())
async def test_a_refusal_is_the_budget_error_itself_at_once(
    server: LoopbackServer, sdk: Sdk, limit: str, family: str, mode: str, stream: bool
) -> None:
    tracker = TokenTracker(hosts={server.host: sdk.provider})
    sends: list[int] = []
    hooks = send_hooks(mode, lambda: sends.append(1))
    client = sdk.client(tracker, family, mode, server, event_hooks=hooks)
    kind, limits = LIMITS[limit]
    sent = len(server.requests)
    with budget(**limits, name="tiny"):
        with pytest.raises(kind):  # the first also loads the tokenizer: not timed
            await run(sdk.call(client, mode, stream), stream)
        started = time.perf_counter()
        with pytest.raises(kind) as refused:
            await run(sdk.call(client, mode, stream), stream)
        elapsed = time.perf_counter() - started
    error = refused.value
    assert (error.reason, error.budget_name) == ("preflight", "tiny")
    assert len(server.requests) == sent, "nothing reached the server"
    assert sends == [], "refused as it was built: the client never began sending it"
    assert elapsed < AT_ONCE, f"the SDK retried: {elapsed:.2f} s"
    assert budget_refusal(error) is error
    assert tracker.usage.calls == 0
    base = BASE_ERRORS.get(sdk.name)
    if base is not None:  # raised while sending, it would pass these SDKs' own except clause
        module, name = base
        assert isinstance(error, getattr(pytest.importorskip(module), name))


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("sdk", sdk_params())
async def test_once_spent_the_next_call_is_refused_at_once(
    server: LoopbackServer, sdk: Sdk, mode: str
) -> None:
    tracker = TokenTracker(hosts={server.host: sdk.provider})
    client = sdk.client(tracker, "httpx2" if _takes_httpx2(sdk) else "httpx", mode, server)
    sent = len(server.requests)
    with budget(max_tokens=20, name="small") as ctx:  # each answer bills 29 tokens or more
        await run(sdk.call(client, mode), False)
        assert ctx.exceeded and len(server.requests) == sent + 1
        started = time.perf_counter()
        with pytest.raises(TokenLimitReached) as refused:
            await run(sdk.call(client, mode), False)
        elapsed = time.perf_counter() - started
    assert refused.value.reason == "exceeded"
    assert len(server.requests) == sent + 1 and tracker.usage.calls == 1
    assert elapsed < AT_ONCE


def _takes_httpx2(sdk: Sdk) -> bool:
    """Whether this generation of ``sdk`` takes an httpx2 client (else: httpx)."""
    if importlib.util.find_spec("httpx2") is None:
        return False
    first = {"openai": 3, "anthropic": 1}.get(sdk.name)  # google-genai takes either
    return first is None or int(version(sdk.name).split(".")[0]) >= first


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("sdk", sdk_params())
async def test_a_refusal_decided_while_sending_still_reaches_the_caller(
    server: LoopbackServer, sdk: Sdk, mode: str
) -> None:
    """The rare race: the budget had room when the request was built, none when it is sent.

    The transport refuses. SDKs that pass their own base error on (openai 2.x+,
    anthropic 1.x+, google-genai) raise it at once; older ones retry once after
    a sleep, and the rebuilt request is refused when it is built.
    """
    ctx = budget(max_tokens=50, name="raced")
    sends: list[int] = []

    def take_the_room() -> None:
        sends.append(1)
        if len(sends) == 1:  # a concurrent call reserves everything, just before sending
            ctx.backend.reserve("", Amount(tokens=50), None)

    tracker = TokenTracker(hosts={server.host: sdk.provider})
    family = "httpx2" if _takes_httpx2(sdk) else "httpx"
    client = sdk.client(tracker, family, mode, server, event_hooks=send_hooks(mode, take_the_room))
    sent = len(server.requests)
    with ctx, pytest.raises(TokenLimitReached) as refused:
        await run(sdk.call(client, mode), False)
    assert refused.value.reason == "preflight"
    assert len(server.requests) == sent, "nothing reached the server"
    assert len(sends) <= 2, "at most one retry"
    assert ctx.state.reserved == Amount(tokens=50), "nothing else is held"


async def test_budget_refusal_finds_the_refusal_an_old_sdk_wrapped() -> None:
    """What openai 1.x does to a refusal raised while sending: its connection error, ``from``."""
    refusal = BudgetExceeded("no room", reason="preflight")
    try:
        try:
            raise refusal
        except TokenBudgetError as exc:
            raise ConnectionError("Connection error.") from exc
    except ConnectionError as wrapped:
        assert budget_refusal(wrapped) is refusal


@pytest.mark.parametrize("sdk", [pytest.param(sdk, id=sdk.name) for sdk in SDKS[:2]])
def test_a_flavoured_refusal_pickles_into_a_fresh_process(server: LoopbackServer, sdk: Sdk) -> None:
    module, name = BASE_ERRORS[sdk.name]
    tracker = TokenTracker(hosts={server.host: sdk.provider})
    client = sdk.client(tracker, "httpx2" if _takes_httpx2(sdk) else "httpx", "sync", server)
    with budget(max_tokens=1, name="tiny"), pytest.raises(TokenLimitReached) as refused:
        sdk.call(client, "sync")
    check = (
        f"import pickle, sys, tokenbudget, {module}; e = pickle.loads(sys.stdin.buffer.read()); "
        f"print(isinstance(e, tokenbudget.TokenLimitReached), isinstance(e, {module}.{name}), "
        "e.reason, e.budget_name, type(e).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", check],
        input=pickle.dumps(refused.value),
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.decode().split() == [
        "True",
        "True",
        "preflight",
        "tiny",
        "TokenLimitReached",
    ]
