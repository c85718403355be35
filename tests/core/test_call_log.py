"""One DEBUG line per recorded call on the ``tokenbudget`` logger, never a secret in it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM, FakeReply

SECRET_KEY = "sk-proj-SECRETKEY0123456789abcdefABCDEF"
SECRET_HEADER = "hdr-SECRET-4242"
PROMPT = "PROMPT-TEXT the customer's address is 1 Main St"
REPLY = "REPLY-TEXT four five"

LINE = re.compile(
    r"call provider=(?P<provider>\S+) model=(?P<model>\S+) endpoint=(?P<endpoint>\S+) "
    r"status=(?P<status>\S+) input=(?P<input>\d+) output=(?P<output>\d+) "
    r"cost_usd=(?P<cost>\S+) latency_ms=(?P<latency>\S+) cache_hit=(?P<hit>True|False) "
    r"estimated=(?P<estimated>True|False) stream=(?P<stream>True|False)"
)


@pytest.fixture
def debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="tokenbudget"):
        yield caplog


def _client(tracker: TokenTracker, fake: FakeLLM) -> openai.OpenAI:
    return openai.OpenAI(
        api_key=SECRET_KEY,
        http_client=tracker.httpx_client(transport=fake),
        default_headers={"X-Tenant-Token": SECRET_HEADER},
        max_retries=0,
    )


def _ask(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}], **kwargs
    )


def _calls(caplog: pytest.LogCaptureFixture) -> list[dict[str, str]]:
    found = []
    for record in caplog.records:
        if record.name == "tokenbudget" and record.levelno == logging.DEBUG:
            match = LINE.fullmatch(record.getMessage())
            if match:
                found.append(match.groupdict())
    return found


def test_each_call_logs_one_line(debug: pytest.LogCaptureFixture) -> None:
    tracker = TokenTracker()
    client = _client(tracker, FakeLLM(reply=REPLY))
    _ask(client)
    _ask(client, stream=True, stream_options={"include_usage": True}).close()
    lines = _calls(debug)
    assert len(lines) == len(tracker.records) == 2
    for line, record in zip(lines, tracker.records, strict=True):
        assert line["provider"] == "openai" and line["model"] == record.model
        assert line["endpoint"] == record.endpoint and line["status"] == "200"
        assert int(line["input"]) == record.input_tokens > 0
        assert int(line["output"]) == record.output_tokens
        assert line["cost"] == format(record.cost_usd, "f")
        assert float(line["latency"]) == pytest.approx(record.latency_ms, abs=0.05)
        assert line["hit"] == "False"
    assert [line["stream"] for line in lines] == ["False", "True"]


def test_a_cache_hit_says_so(debug: pytest.LogCaptureFixture) -> None:
    tracker = TokenTracker(cache="memory")
    client = _client(tracker, FakeLLM(reply=REPLY))
    _ask(client)
    _ask(client)
    first, second = _calls(debug)
    assert (first["hit"], second["hit"]) == ("False", "True")
    assert second["cost"] == "0" and first["cost"] != "0"


def test_unpriced_and_failed_calls(debug: pytest.LogCaptureFixture) -> None:
    tracker = TokenTracker()
    fake = FakeLLM([FakeReply(status=500), FakeReply(text=REPLY)])
    client = _client(tracker, fake)
    with pytest.raises(openai.InternalServerError):
        _ask(client)
    client.chat.completions.create(
        model="no-such-model-anywhere", messages=[{"role": "user", "content": PROMPT}]
    )
    failed, unpriced = _calls(debug)
    assert failed["status"] == "500" and failed["cost"] == "0"
    assert unpriced["cost"] == "unpriced" and unpriced["model"] == "no-such-model-anywhere"


def test_no_key_header_or_body_is_logged(debug: pytest.LogCaptureFixture) -> None:
    tracker = TokenTracker(cache="memory")
    client = _client(tracker, FakeLLM(reply=REPLY))
    _ask(client)
    _ask(client)
    _ask(client, stream=True, stream_options={"include_usage": True}).close()
    assert len(_calls(debug)) == 3
    text = debug.text + "".join(str(record.__dict__) for record in debug.records)
    for secret in (SECRET_KEY, SECRET_HEADER, "PROMPT-TEXT", "Main St", "REPLY-TEXT", "Bearer"):
        assert secret not in text


def test_nothing_is_logged_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tokenbudget"):
        tracker = TokenTracker()
        _ask(_client(tracker, FakeLLM(reply=REPLY)))
    assert tracker.usage.calls == 1
    assert caplog.records == []
