"""A provider reporting hostile usage cannot make a budget pass calls it should refuse.

Before the providers' validation boundary, a negative count was recorded as
it was: each call cost a negative amount and a $0.001 budget let thousands of
calls through. Now the bad figures are dropped and counted locally, so each
call costs what it would have, and the budget refuses once it is spent. The
public inputs (``tracker.track``, ``add_record``, ``calculate_cost``) reject
bad counts outright.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import openai
import pytest

from tokenbudget import BudgetExceeded, CallRecord, TokenTracker, Usage, budget, calculate_cost
from tokenbudget.testing import FakeLLM, FakeReply

from ..support import fixture_json, mock_transport, record, response

LONG_REPLY = "word " * 400  # about 400 output tokens: $0.00024 at gpt-4o-mini's price


def _hostile_answer(family: str, usage: dict[str, Any]) -> Any:
    def handler(request: Any) -> Any:
        body = fixture_json("openai/chat.json")
        body["model"] = "gpt-4o-mini"
        body["choices"][0]["message"]["content"] = LONG_REPLY
        body["usage"] = usage
        headers = {"content-type": "application/json"}
        return response(family, 200, headers=headers, content=json.dumps(body).encode())

    return handler


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": -5000, "completion_tokens": -100000, "total_tokens": -105000},
        {"prompt_tokens": "5000", "completion_tokens": "100000", "total_tokens": "105000"},
        {"prompt_tokens": 0.5, "completion_tokens": float("nan"), "total_tokens": 0},
        {"prompt_tokens": True, "completion_tokens": False, "total_tokens": 1},
    ],
    ids=["negative", "strings", "floats", "booleans"],
)
def test_a_small_budget_refuses_after_a_few_calls(family: str, usage: dict[str, Any]) -> None:
    tracker = TokenTracker()  # the built-in prices
    http = tracker.httpx_client(family=family, transport=_mock(family, usage))
    client = openai.OpenAI(api_key="sk-test", http_client=http, max_retries=0)
    messages = [{"role": "user", "content": "Say many words."}]

    sent = 0
    with pytest.raises(BudgetExceeded), budget(max_cost_usd="0.001"):
        for _ in range(2000):
            client.chat.completions.create(model="gpt-4o-mini", messages=messages)
            sent += 1

    assert 1 <= sent <= 6  # each call is charged what its text costs, about $0.00024
    records = tracker.records
    assert len(records) == sent
    assert all(r.cost_usd is not None and r.cost_usd > Decimal("0.0001") for r in records)
    assert all(r.usage.estimate_reason.startswith("invalid usage: ") for r in records)  # type: ignore[union-attr]
    assert tracker.total_cost >= Decimal("0.001")


def _mock(family: str, usage: dict[str, Any]) -> Any:
    return mock_transport(family, _hostile_answer(family, usage))


def _with_usage(usage: Usage) -> CallRecord:
    return replace(record(), usage=usage)


def test_fake_llm_negative_counts_are_not_recorded_as_given() -> None:
    tracker = TokenTracker()
    fake = FakeLLM(reply=FakeReply(text=LONG_REPLY, input_tokens=-10, output_tokens=-(10**6)))
    client = openai.OpenAI(api_key="sk-test", http_client=tracker.httpx_client(transport=fake))
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    record_ = tracker.records[-1]
    assert record_.input_tokens > 0 and record_.output_tokens > 300
    assert record_.cost_usd is not None and record_.cost_usd > 0


# -- what users pass in -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (-1, ValueError),
        (2**63, ValueError),
        (10**9 + 1, ValueError),
        ("12", TypeError),
        (12.0, TypeError),
        (True, TypeError),
        (None, TypeError),
        (float("nan"), TypeError),
    ],
)
def test_manual_counts_are_checked(value: Any, error: type[Exception]) -> None:
    tracker = TokenTracker()
    with pytest.raises(error, match="input_tokens"):
        tracker.track("gpt-4o-mini", value, 10)
    with pytest.raises(error, match="output_tokens"):
        calculate_cost("gpt-4o-mini", 10, value)
    with pytest.raises(error, match="cached_input_tokens"):
        tracker.add_record(_with_usage(Usage(input_tokens=10, cached_input_tokens=value)))
    assert tracker.records == []


def test_valid_manual_counts_still_record() -> None:
    tracker = TokenTracker()
    tracked = tracker.track("gpt-4o-mini", 10**9, 0)
    assert tracked.input_tokens == 10**9 and tracked.cost_usd == Decimal("150")
    assert calculate_cost("gpt-4o-mini", 1000, 1000) == Decimal("0.00075")


def test_a_bad_reported_cost_or_extra_unit_is_refused() -> None:
    tracker = TokenTracker()
    with pytest.raises(ValueError, match="reported_cost_usd"):
        tracker.add_record(_with_usage(Usage(reported_cost_usd=Decimal("-1"))))
    with pytest.raises(ValueError, match="reported_cost_usd"):
        tracker.add_record(_with_usage(Usage(reported_cost_usd=Decimal("NaN"))))
    with pytest.raises(ValueError, match="web_search"):
        tracker.add_record(_with_usage(Usage(extra={"web_search_requests": -3})))
    assert tracker.records == []
