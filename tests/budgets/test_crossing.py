"""A call that crosses the limit is kept; what comes after it; warnings and callbacks."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import pytest

from tokenbudget import Budget, BudgetExceeded, BudgetWarning, TokenBudgetError, budget
from tokenbudget.testing import FakeLLM, FakeReply

from .helpers import (
    OPENAI_INPUT,
    REPLY,
    anthropic_client,
    chat,
    message,
    micro,
    openai_client,
    tracker,
)

#: One OpenAI call: 8 input + 5 output tokens, micro(18).
CALL = micro(OPENAI_INPUT + 10)


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_the_crossing_call_is_returned_and_the_next_refused(sdk: str) -> None:
    fake = FakeLLM(reply=REPLY)
    tracked = tracker()
    make, ask = (openai_client, chat) if sdk == "openai" else (anthropic_client, message)
    client = make(tracked, fake)
    with budget(max_cost_usd=micro(10), name="crossing") as ctx:  # the input fits, the output not
        answer = ask(client)
        assert ctx.exceeded and ctx.remaining_budget == 0
        with pytest.raises(BudgetExceeded) as refused:
            ask(client)
    # leaving the block did not raise: the crossing call's answer was paid for
    text = answer.choices[0].message.content if sdk == "openai" else answer.content[0].text
    assert text == REPLY
    assert refused.value.reason == "exceeded" and refused.value.budget_name == "crossing"
    crossing = tracked.records[0].cost_usd
    assert crossing is not None and refused.value.spent == crossing > micro(10)
    assert fake.calls == 1 and tracked.usage.calls == 1


def test_warn_at_fires_once() -> None:
    client = openai_client(tracker(), FakeLLM(reply=REPLY))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with budget(max_cost_usd=5 * CALL, warn_at=0.5, name="half"):
            for _ in range(4):  # 18, 36, 54 (passes 45), 72
                chat(client)
    messages = [str(w.message) for w in caught if issubclass(w.category, BudgetWarning)]
    assert messages == ["budget 'half' has used 50%: $0.000054 spent of $0.00009"]


def test_warn_at_calls_on_warn_once_per_window() -> None:
    client = openai_client(tracker(), FakeLLM(reply=REPLY))
    heard: list[Budget] = []
    now = [datetime(2026, 3, 1, 12, tzinfo=timezone.utc)]
    ctx = budget(max_tokens=100, warn_at=0.2, on_warn=heard.append, per="day", clock=lambda: now[0])
    with ctx:
        chat(client)  # 13 tokens
        chat(client)  # 26: passes 20
        chat(client)
        now[0] = now[0].replace(day=2)
        chat(client)
        chat(client)  # 26 in the new window: passes 20 again
    assert heard == [ctx, ctx]


def test_on_exceed_warn_lets_calls_through_and_warns() -> None:
    fake = FakeLLM(reply=REPLY)
    client = openai_client(tracker(), fake)
    soft = budget(max_cost_usd=micro(10), on_exceed="warn", name="soft")
    with pytest.warns(BudgetWarning) as caught, soft as ctx:
        chat(client)  # crosses: a warning
        chat(client)  # would be refused: a warning, and sent
    assert fake.calls == 2 and ctx.current_usage.cost_usd == 2 * CALL
    texts = [str(w.message) for w in caught]
    assert texts[0].startswith("budget 'soft' was crossed by a call to gpt-4o-mini")
    assert texts[1].startswith("budget 'soft' is spent")
    assert ctx.state.reserved.cost_usd == 0


def test_on_exceed_callable_decides() -> None:
    fake = FakeLLM(reply=REPLY)
    client = openai_client(tracker(), fake)
    heard: list[TokenBudgetError] = []

    def decide(error: TokenBudgetError) -> None:
        heard.append(error)
        if len(heard) > 2:
            raise error

    with budget(max_cost_usd=micro(10), on_exceed=decide):
        chat(client)  # crossing: heard, cannot refuse
        chat(client)  # refusal heard, let through
        with pytest.raises(BudgetExceeded):
            chat(client)  # refusal heard, raised
    assert [e.reason for e in heard] == ["crossed", "exceeded", "exceeded"]
    assert fake.calls == 2


def test_a_failing_call_settles_at_zero() -> None:
    fake = FakeLLM([FakeReply(status=400), REPLY])
    client = openai_client(tracker(), fake, max_retries=0)
    with budget(max_cost_usd=micro(20), preflight="worst_case") as ctx:
        with pytest.raises(Exception, match="400"):
            chat(client, max_tokens=5)
        assert ctx.state.reserved.cost_usd == 0 and ctx.current_usage.cost_usd == 0
        chat(client, max_tokens=5)
    assert ctx.current_usage.calls == 2 and ctx.current_usage.failed_calls == 1
    assert ctx.current_usage.cost_usd == CALL
