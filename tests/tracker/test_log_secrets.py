"""tokenbudget's own log lines never carry a secret: messages and tracebacks are scrubbed.

A failure inside tokenbudget is logged once with its traceback; the exception's
text may be anyone's (a user's normaliser, another library naming the URL it
failed on, query key and all). Through a real openai client whose host's usage
normaliser fails with a key in its message.
"""

from __future__ import annotations

import logging
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker, Usage
from tokenbudget.providers.openai import OpenAIProvider

from ..support import StubBook, json_answer, sync_client

SECRET = "AIzaSyD-this-is-not-a-real-key-0123456789"


def _failing_normaliser(usage: Any) -> Usage:
    raise RuntimeError(f"could not read https://gateway.test/v1/usage?key={SECRET}")


def test_a_logged_failure_keeps_no_secret(family: str, caplog: pytest.LogCaptureFixture) -> None:
    # a name of its own per run: the failure is logged once per provider and kind
    provider = OpenAIProvider(f"leaky-gateway-{family}", normalise=_failing_normaliser)
    tracker = TokenTracker(prices=StubBook(), hosts={"gateway.test": provider})
    http = sync_client(tracker, family, json_answer(family))
    client = openai.OpenAI(
        api_key="sk-test", base_url="https://gateway.test/v1", http_client=http, max_retries=0
    )
    with caplog.at_level(logging.DEBUG, logger="tokenbudget"):
        answer = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )

    assert answer.choices[0].message.content  # the user's answer is untouched
    assert tracker.usage.calls == 1
    assert caplog.records, "the failure is logged"
    assert SECRET not in caplog.text
    assert "RuntimeError" in caplog.text  # the traceback is still there, scrubbed


def test_the_logger_scrubs_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tokenbudget")
    try:
        raise ValueError(f"Authorization: Bearer {SECRET}")
    except ValueError:
        with caplog.at_level(logging.WARNING, logger="tokenbudget"):
            logger.warning("reading %s failed", f"https://h.test/p?key={SECRET}", exc_info=True)
    assert SECRET not in caplog.text
    assert "reading https://h.test/p?[redacted] failed" in caplog.text
    assert "ValueError" in caplog.text
