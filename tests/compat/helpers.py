"""What every compatibility test shares: its target, the checks of numbers and refusals.

A test module names its *target* (``pytestmark = pytest.mark.compat("openai")``)
and imports the target's package with :func:`need`. In the main test run a
target that is not installed is skipped, saying which nox session runs it; in
a nox session (``TOKENBUDGET_COMPAT_TARGET`` names its target) the import must
work and none of the target's tests may skip, except a scenario the installed
version does not have (:func:`not_in_this_version`).
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

import tokenbudget
from tokenbudget import (
    BudgetExceeded,
    CallRecord,
    TokenTracker,
    budget,
    calculate_cost,
    patched,
)
from tokenbudget.providers import count_text_tokens

from .wire import Sent, WireServer

#: The nox session's target: its tests must run, never skip.
TARGET_ENV = "TOKENBUDGET_COMPAT_TARGET"
#: The prefix of a skip that is allowed in a target's own session.
NOT_IN_THIS_VERSION = "n/a in this version:"
#: A budget no call's input fits in (the pre-flight estimate alone exceeds it).
TINY = Decimal("0.000000001")
#: The issue's bound for a refusal: it arrives at once, with no retry sleep.
REFUSAL_SECONDS = 0.2
#: Models whose tokenizer a refusal's pre-flight estimate loads.
WARM_MODELS = ("gpt-4o-mini", "claude-haiku-4-5", "gemini-2.0-flash")


#: An OpenAI-style function tool (the server answers it with ``{"city": "Paris"}``).
WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@dataclass
class App:
    """An application that called ``patch_all()`` once at start, with its tracker and server."""

    tracker: TokenTracker
    wire: WireServer


def target() -> str | None:
    """The target whose tests must run in this session, if any."""
    return os.environ.get(TARGET_ENV) or None


def need(module: str, of: str) -> ModuleType:
    """Import ``module`` for target ``of``: skip when absent, unless ``of`` is the session's."""
    if target() == of:
        return importlib.import_module(module)
    return pytest.importorskip(
        module, reason=f"not installed: {module} (nox -t {of} runs these tests)"
    )


def not_in_this_version(reason: str) -> None:
    """Skip a scenario the installed version does not have (allowed in its own session)."""
    pytest.skip(f"{NOT_IN_THIS_VERSION} {reason}")


def assert_tracked(tracker: TokenTracker, wire: WireServer) -> list[CallRecord]:
    """Each answer the server sent was recorded once, with its numbers and their price."""
    records = [record for record in tracker.records if not record.cached]
    assert wire.sent, "the server answered nothing"
    assert [_figures(record) for record in records] == [_expected(sent) for sent in wire.sent]
    return records


def _figures(record: CallRecord) -> tuple[Any, ...]:
    usage = record.usage
    return (record.provider, record.model, usage.input_tokens, usage.output_tokens,
            usage.estimated, record.cost_usd)  # fmt: skip


def _expected(sent: Sent) -> tuple[Any, ...]:
    price = calculate_cost(
        sent.model, sent.input_tokens, sent.output_tokens, provider=sent.provider
    )
    return (sent.provider, sent.model, sent.input_tokens, sent.output_tokens, False, price)


def assert_cache_hit(tracker: TokenTracker, wire: WireServer, calls: int) -> None:
    """``calls`` identical calls: one reached the server, the others were cache hits."""
    assert len(wire.requests) == 1, f"{len(wire.requests)} requests reached the server"
    assert_tracked(tracker, wire)
    hits = [record for record in tracker.records if record.cached]
    assert len(hits) == calls - 1
    assert all(hit.cost_usd == 0 for hit in hits)


@dataclass
class Refusal:
    """What one refused call did: what the user got, how fast, how often it was refused."""

    error: BaseException | None = None
    elapsed: float = 0.0
    refusals: list[BaseException] = field(default_factory=list)
    requests: int = 0

    @property
    def refused(self) -> BaseException | None:
        """The budget error tokenbudget raised (the first, if the call was retried)."""
        return self.refusals[0] if self.refusals else None


def refuse(wire: WireServer, action: Callable[[], Any]) -> Refusal:
    """Run ``action`` inside a budget no call fits in: what the user got, how fast.

    It runs twice and the second run is measured: the first call of a process
    imports what SDKs load lazily, which is no part of a refusal (a retry would
    happen on every run, so the second still shows it). Every exception is kept,
    whatever its type, so the test can say what the user saw before it asserts.
    """
    _warm_tokenizers()
    with _refusing(Refusal()):
        action()
    outcome = Refusal()
    with _refusing(outcome):
        action()
    outcome.requests = len(wire.requests)
    return outcome


async def refuse_async(wire: WireServer, action: Callable[[], Awaitable[Any]]) -> Refusal:
    """:func:`refuse` for a coroutine."""
    _warm_tokenizers()
    with _refusing(Refusal()):
        await action()
    outcome = Refusal()
    with _refusing(outcome):
        await action()
    outcome.requests = len(wire.requests)
    return outcome


def _warm_tokenizers() -> None:
    for model in WARM_MODELS:  # a tokenizer's first load is no part of a refusal either
        count_text_tokens("warm up", model)


@contextmanager
def _refusing(outcome: Refusal) -> Iterator[None]:
    """A budget no call fits in (``on_exceed="raise"``, the default); keeps what the user got.

    An SDK that retried the refusal would sleep first (0.5 s at least on every
    generation), so the elapsed time tells a retry; the refusal itself is the
    budget error the user got or the one :func:`tokenbudget.budget_refusal` finds.
    """
    started = time.perf_counter()
    try:
        with budget(max_cost_usd=TINY):
            yield
    except Exception as error:  # what the user gets, whatever it is
        outcome.error = error
        found = tokenbudget.budget_refusal(error)
        if found is not None:
            outcome.refusals.append(found)
    finally:
        outcome.elapsed = time.perf_counter() - started


def assert_refused_at_once(outcome: Refusal, *, budget_error_itself: bool = True) -> None:
    """The documented refusal: one refusal, nothing sent, no retry sleep.

    With ``budget_error_itself`` the user got ``BudgetExceeded`` itself (an SDK);
    otherwise (a framework that wraps every exception) ``budget_refusal`` finds it.
    """
    assert outcome.error is not None, "the call was not refused"
    assert outcome.requests == 0, f"{outcome.requests} requests reached the server"
    assert outcome.refusals, f"no budget refusal in what the user got: {outcome.error!r}"
    assert outcome.elapsed < REFUSAL_SECONDS, f"the refusal took {outcome.elapsed:.2f} s"
    if budget_error_itself:
        assert isinstance(outcome.error, BudgetExceeded), repr(outcome.error)
    else:
        assert tokenbudget.budget_refusal(outcome.error) is outcome.refused  # type: ignore[attr-defined]


#: ``make(is_async=False)``: an SDK client on the server, tracked by the test's route.
Make = Callable[..., Any]


@contextmanager
def stainless_clients(
    route: str,
    tracker: TokenTracker,
    classes: tuple[type[Any], type[Any]],
    wrap: Callable[[Any], Any],
    **options: Any,
) -> Iterator[Make]:
    """``make(is_async=False)`` for an openai/anthropic-style SDK: a client of
    ``classes`` (sync, async) built with ``options``, tracked by ``route``: a
    tracked ``http_client``, a ``wrap_*`` copy, or ``patch_all()`` for the block."""

    def build(is_async: bool = False) -> Any:
        kwargs = dict(options)
        if route == "http_client":
            http = tracker.async_httpx_client() if is_async else tracker.httpx_client()
            kwargs["http_client"] = http
        client = classes[is_async](**kwargs)
        return wrap(client) if route.startswith("wrap_") else client

    with patched(tracker) if route == "patch_all" else nullcontext():
        yield build
