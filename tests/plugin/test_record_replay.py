"""Record once, replay offline: same answers, same costs, unrecorded calls refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from .helpers import cost_of, suite, usd

SECRET = "sk-live-SECRET-0123456789abcdef"

PIPELINE = """
import pytest
import llm

CLIENT = llm.client()

def test_chat(tokenbudget):
    assert llm.ask(CLIENT, "What is 2+2?") == "This is a fake reply to: What is 2+2?"
    tokenbudget.assert_calls(1)
    tokenbudget.assert_cost_below(0.01)

def test_stream(tokenbudget):
    assert llm.stream(CLIENT, "Stream it") == "This is a fake reply to: Stream it"
    tokenbudget.assert_calls(1, model="gpt-4o-mini")

@pytest.mark.tokenbudget(max_calls=2)
def test_limited():
    llm.ask(CLIENT, "first")
    llm.ask(CLIENT, "second")
"""

#: Calls the recording never saw: refused before they are sent, through either SDK.
NEW = """
import anthropic
import httpx2
import llm

def test_new_openai():
    llm.ask(llm.client(), "never recorded")

def test_new_anthropic():
    client = anthropic.Anthropic(api_key="k", http_client=httpx2.Client(), max_retries=2)
    client.messages.create(
        model="claude-sonnet-4-6", max_tokens=20, messages=[{"role": "user", "content": "Hi"}]
    )
"""


def results_in(path: Path) -> dict[str, dict[str, object]]:
    document = json.loads(path.read_text())
    return {test["nodeid"]: test for test in document["tests"]}


def test_a_replayed_run_is_offline_and_reports_the_recorded_costs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite(pytester, test_pipeline=PIPELINE)
    monkeypatch.setenv("LLM_KEY", SECRET)
    recorded = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--tokenbudget-record=recordings",
        "--tokenbudget-json=recorded.json",
    )
    recorded.assert_outcomes(passed=3)
    directory = pytester.path / "recordings"
    recorded.stdout.fnmatch_lines(
        [f"tokenbudget: recording LLM calls to {directory}", "*recorded 4 answers*(4 files)"]
    )
    files = sorted(directory.iterdir())
    assert len(files) == 4 and all(path.suffix == ".tbc" for path in files)
    for path in files:  # no credential, no request, in any form
        data = path.read_bytes()
        assert SECRET.encode() not in data and b"SECRET" not in data
        assert b"authorization" not in data.lower() and b"sk-" not in data

    # Replay in a fresh process, sockets blocked, the real transport, another API key.
    pytester.makepyfile(test_new=NEW)
    monkeypatch.setenv("LLM_KEY", "sk-fake-for-ci")
    monkeypatch.setenv("NETWORK_BLOCKED", "1")
    replayed = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--tokenbudget-replay=recordings",
        "--tokenbudget-json=replayed.json",
        "--tokenbudget-report",
    )

    replayed.assert_outcomes(passed=3, failed=2)
    message = (
        "tokenbudget: call not recorded: POST api.openai.com/v1/chat/completions model=gpt-4o; "
        f"it was not sent. Re-record with --tokenbudget-record={directory} (the request must be "
        "identical to the recorded one: model, messages and every other body field)"
    )
    replayed.stdout.fnmatch_lines([f"E*UnrecordedCall: {message}"])
    replayed.stdout.fnmatch_lines(
        [
            "*tokenbudget: replaying LLM calls from*",
            "│ Test*│ Calls │ Tokens │ Recorded cost │",
            f"Replayed from {directory}: costs are those recorded; nothing was spent.",
        ]
    )
    # anthropic 2.x would wrap a foreign error in APIConnectionError and retry it: not ours.
    replayed.stdout.fnmatch_lines(
        [
            "E*AnthropicUnrecordedCall: tokenbudget: call not recorded: "
            "POST api.anthropic.com/v1/messages model=claude-sonnet-4-6; it was not sent.*"
        ]
    )
    replayed.stdout.no_fnmatch_line("*network blocked*")
    replayed.stdout.no_fnmatch_line("*APIConnectionError*")

    before = results_in(pytester.path / "recorded.json")
    after = results_in(pytester.path / "replayed.json")
    assert {nodeid: before[nodeid]["cost_usd"] for nodeid in before} == {
        nodeid: after[nodeid]["cost_usd"] for nodeid in before
    }
    assert Decimal(str(before["test_pipeline.py::test_chat"]["cost_usd"])) == cost_of(
        "What is 2+2?"
    )
    for nodeid in before:
        assert after[nodeid]["spent_usd"] == "0"
        assert after[nodeid]["usage"]["cached_calls"] == after[nodeid]["calls"]  # type: ignore[index]
    replayed.stdout.fnmatch_lines_random(
        [
            f"│ {nodeid} *│*{usd(Decimal(str(test['cost_usd'])))} │"
            for nodeid, test in before.items()
        ]
    )


def test_limits_count_replayed_calls_at_their_recorded_cost(pytester: pytest.Pytester) -> None:
    suite(
        pytester,
        test_three="""
        import llm

        def test_three():
            client = llm.client()
            for text in ("one", "two", "three"):
                llm.ask(client, text)
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-record=rec").assert_outcomes(
        passed=1
    )
    one = cost_of("one")
    pytester.makepyfile(
        test_three=f"""
        import pytest
        import llm
        from tokenbudget.testing import FakeLLM

        FAKE = FakeLLM()

        @pytest.mark.tokenbudget(max_cost_usd="{one}")
        def test_three():
            client = llm.client(FAKE)
            for text in ("one", "two", "three"):
                llm.ask(client, text)

        def test_nothing_was_sent():
            assert FAKE.calls == 0
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-replay=rec")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"E*BudgetExceeded: tokenbudget: test test_three.py::test_three reached its "
            f"max_cost_usd={usd(one)} (spent {usd(one)} (recorded costs, replayed)); "
            "the call to gpt-4o was not sent",
            f"tokenbudget: test spent all of max_cost_usd={usd(one)} (1 call, 1 refused; top: "
            f"gpt-4o {usd(one)}) (recorded costs, replayed)",
        ]
    )


def test_keys_ignore_ignored_fields(pytester: pytest.Pytester) -> None:
    """``tokenbudget_ignore_fields``: a field that changes every run does not miss the recording."""
    suite(
        pytester,
        test_user="""
        import uuid
        import llm

        def test_user():
            llm.ask(llm.client(), "Hi", user=uuid.uuid4().hex)
        """,
    )
    pytester.makeini(
        "[pytest]\nfilterwarnings = error\nasyncio_default_fixture_loop_scope = function\n"
        "tokenbudget_ignore_fields = user\n"
    )
    pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-record=rec").assert_outcomes(
        passed=1
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-replay=rec")
    result.assert_outcomes(passed=1)
