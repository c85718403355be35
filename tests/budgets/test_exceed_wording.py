"""What a budget says under each ``on_exceed``: the text matches what happened to the call.

``"raise"`` refuses (the call is not sent, a stream is stopped); ``"warn"`` sends every
call and lets every stream finish; a callable lets the call go unless it raises.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tokenbudget import BudgetExceeded, BudgetWarning, TokenBudgetError, budget
from tokenbudget.testing import FakeLLM

from .helpers import REPLY, chat, micro, openai_client, tracker

SPENT = "budget 'soft' is spent ($0.000018 spent of $0.00001)"
CROSSED = "budget 'soft' was crossed by a call to gpt-4o-mini ($0.000018 spent of $0.00001)"
#: A preflight refusal of the second call under max_cost_usd=micro(20), max_tokens=5.
CANNOT_FIT = (
    "budget 'soft' cannot fit a call to gpt-4o-mini: it may use $0.000008 for its 8 input"
    " tokens alone, but $0.000002 is left ($0.000018 spent of $0.00002; $0 held by calls in"
    " flight)"
)
STREAM = (
    "a stream of gpt-4o-mini after ~6 output tokens: with this call's $0.00002 so far it"
    " passes its limit ($0 spent of $0.000018)"
)


def _heard(
    on_exceed: Any, calls: int = 2, request_max: int = 5, **limits: Any
) -> tuple[list[str], int]:
    """Make ``calls`` calls under a budget named 'soft'; the texts it gave, calls sent."""
    fake = FakeLLM(reply=REPLY)
    client = openai_client(tracker(), fake)
    texts: list[str] = []

    def keep(error: TokenBudgetError) -> None:
        texts.append(str(error))

    react = keep if on_exceed == "callable" else on_exceed
    with _warnings() as warned, budget(on_exceed=react, name="soft", **limits):
        for _ in range(calls):
            try:
                chat(client, max_tokens=request_max)
            except TokenBudgetError as error:
                texts.append(str(error))
    return texts + warned, fake.calls


@contextmanager
def _warnings() -> Iterator[list[str]]:
    """The texts of the BudgetWarnings issued in the block."""
    texts: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield texts
    texts.extend(str(w.message) for w in caught if issubclass(w.category, BudgetWarning))


def test_raise_says_the_call_was_not_sent() -> None:
    texts, sent = _heard("raise", max_cost_usd=micro(10))
    assert texts == [f"{SPENT}; the call to gpt-4o-mini was not sent"]
    assert sent == 1


def test_warn_says_every_call_is_sent() -> None:
    texts, sent = _heard("warn", max_cost_usd=micro(10))
    assert texts == [
        f"{CROSSED}; later calls are still sent (on_exceed='warn')",
        f"{SPENT}; the call to gpt-4o-mini is sent anyway (on_exceed='warn')",
    ]
    assert sent == 2


def test_a_callable_hears_that_the_call_goes_unless_it_raises() -> None:
    texts, sent = _heard("callable", max_cost_usd=micro(10))
    assert texts == [
        f"{CROSSED}; later calls are sent unless on_exceed raises",
        f"{SPENT}; the call to gpt-4o-mini is sent unless on_exceed raises",
    ]
    assert sent == 2


@pytest.mark.parametrize(
    ("on_exceed", "ending", "sent"),
    [
        ("raise", "", 1),
        ("warn", "; the call is sent anyway (on_exceed='warn')", 2),
        ("callable", "; the call is sent unless on_exceed raises", 2),
    ],
)
def test_a_call_that_cannot_fit(on_exceed: str, ending: str, sent: int) -> None:
    texts, calls = _heard(on_exceed, max_cost_usd=micro(20), preflight="worst_case")
    assert texts[0] == CANNOT_FIT + ending
    assert calls == sent


@pytest.mark.parametrize(
    ("on_exceed", "said"),
    [
        ("raise", f"budget 'soft' stopped {STREAM}"),
        ("warn", f"budget 'soft' would stop {STREAM}; the stream goes on (on_exceed='warn')"),
        (
            "callable",
            f"budget 'soft' would stop {STREAM}; the stream goes on unless on_exceed raises",
        ),
    ],
)
def test_a_watched_stream(on_exceed: str, said: str) -> None:
    fake = FakeLLM(reply=" ".join(["word"] * 20))
    client = openai_client(tracker(), fake)
    texts: list[str] = []
    react: Any = (lambda error: texts.append(str(error))) if on_exceed == "callable" else on_exceed
    words = 0
    limits: dict[str, Any] = {"max_cost_usd": micro(18), "stop_streams": True}
    with _warnings() as warned, budget(on_exceed=react, name="soft", **limits):
        try:
            for item in chat(client, stream=True):
                if item.choices and item.choices[0].delta.content:
                    words += 1
        except BudgetExceeded as error:
            texts.append(str(error))
    assert (texts + warned)[0] == said
    assert words == (20 if on_exceed != "raise" else 5)


@pytest.mark.parametrize(
    ("on_exceed", "ending", "sent"),
    [
        ("raise", "", 0),
        ("warn", "; the call is sent anyway (on_exceed='warn')", 1),
        ("callable", "; the call is sent unless on_exceed raises", 1),
    ],
)
def test_a_call_that_cannot_be_clamped(on_exceed: str, ending: str, sent: int) -> None:
    texts, calls = _heard(on_exceed, calls=1, request_max=100, max_tokens=8 + 15, preflight="clamp")
    assert texts[0] == (
        "budget 'soft' cannot fit a call to gpt-4o-mini even with its output lowered to"
        " min_output_tokens=16: 23 tokens is left (0 of 23 tokens used)" + ending
    )
    assert calls == sent
