"""A reasoning model's streamed cost, as a test's assertions see it.

A streamed chat answer reports usage only when asked. The plugin now asks (and
hides it) in a plain run, so a cost assertion sees the reasoning tokens the
provider billed. Where usage still does not come (the injection turned off, a
host that ignores it), the record says its reasoning tokens are missing and a
warning is logged once per model.
"""

from __future__ import annotations

import pytest

from .helpers import suite

TESTS = """
import logging

import httpx2
import openai
import pytest
from tokenbudget.testing import FakeLLM, FakeReply

#: o4-mini with 2,000 reasoning tokens: about $0.0088 billed, $0.00001 of visible text.
REASONING = FakeReply(text="ok", reasoning_tokens=2000)


def stream(fake, model="o4-mini"):
    client = openai.OpenAI(api_key="k", http_client=httpx2.Client(transport=fake))
    chunks = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hello"}], stream=True
    )
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_the_cost_assertion_sees_the_reasoning(tokenbudget):
    assert stream(FakeLLM(reply=REASONING)) == "ok"
    assert not tokenbudget.records[-1].estimated
    assert tokenbudget.records[-1].usage.reasoning_tokens == 2000
    tokenbudget.assert_cost_below("0.001")  # fails: the call cost about $0.0088


def test_without_usage_the_record_says_reasoning_is_missing(tokenbudget, caplog):
    tokenbudget.inject_stream_usage = False  # a host that ignores include_usage
    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        stream(FakeLLM(reply=REASONING))
        stream(FakeLLM(reply=REASONING))
    record = tokenbudget.records[-1]
    assert record.estimated
    assert record.usage.estimate_reason.startswith("reasoning tokens not reported")
    warned = [r for r in caplog.records if "reasoning tokens cannot be counted" in r.getMessage()]
    assert len(warned) == 1 and "o4-mini" in warned[0].getMessage()


def test_a_model_that_does_not_reason_is_estimated_as_before(tokenbudget):
    tokenbudget.inject_stream_usage = False
    stream(FakeLLM(reply=FakeReply(text="ok")), model="gpt-4o-mini")
    assert tokenbudget.records[-1].usage.estimate_reason == "the answer reported no usage"
"""


def test_reasoning_costs_reach_the_assertions(pytester: pytest.Pytester) -> None:
    suite(pytester, test_reasoning=TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_the_cost_assertion_sees_the_reasoning*"])
    result.stdout.fnmatch_lines(["*cost*0.001*"])
