"""The warning about an unpriced model names the provider the call went to, never ``None``."""

from __future__ import annotations

import logging
import uuid

import openai
import pytest

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM


def fresh_model() -> str:
    # Each warning is logged once per process and (provider, model): a new name is new.
    return f"unlisted-model-{uuid.uuid4().hex[:8]}"


def warnings(caplog: pytest.LogCaptureFixture, model: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
        and r.name.startswith("tokenbudget")
        and model in r.getMessage()
    ]


def test_an_sdk_call_to_an_unknown_model_names_its_provider(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tokenbudget")
    model = fresh_model()
    tracker = TokenTracker()
    client = openai.OpenAI(api_key="sk-fake", http_client=tracker.httpx_client(transport=FakeLLM()))
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
    assert tracker.last_record is not None and tracker.last_record.cost_usd is None
    [message] = warnings(caplog, model)
    assert f"openai model {model!r}" in message
    assert "None" not in message


def test_track_without_a_provider_says_none_was_given(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="tokenbudget")
    model = fresh_model()
    record = TokenTracker().track(model, 10, 5)
    assert record.cost_usd is None
    [message] = warnings(caplog, model)
    assert "None" not in message
    assert f"model {model!r} (no provider given)" in message


def test_track_with_a_provider_names_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="tokenbudget")
    model = fresh_model()
    TokenTracker().track(model, 10, 5, provider="mistral")
    [message] = warnings(caplog, model)
    assert f"mistral model {model!r}" in message
