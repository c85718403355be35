"""The command line: the report, the JSON file, the run's cost limit, turning the plugin off."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from .helpers import cost_of, suite, usd

#: Two tests that spend (one twice as much), one that does not, one call at import time.
SPENDING = """
import pytest
import llm

CLIENT = llm.client()
llm.ask(CLIENT, "at import")

def test_twice(tokenbudget):
    llm.ask(CLIENT)
    llm.ask(CLIENT)

def test_once():
    llm.ask(CLIENT)

def test_idle():
    pass

@pytest.mark.tokenbudget(max_calls=0)
def test_over():
    with pytest.raises(Exception):
        llm.ask(CLIENT)
"""


def test_the_report_lists_each_test_costliest_first(pytester: pytest.Pytester) -> None:
    suite(pytester, test_spend=SPENDING)
    result = pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-report")
    result.assert_outcomes(passed=3, failed=1)
    one, import_cost = cost_of(), cost_of("at import")
    total = 3 * one + import_cost
    result.stdout.fnmatch_lines(
        [
            "*= tokenbudget: LLM cost per test =*",
            "┌*┐",
            "│ Test*│ Calls │ Tokens │*Cost │",
            f"│ test_spend.py::test_twice │*2 │*32 │*{usd(2 * one)} │",
            f"│ test_spend.py::test_once *│*1 │*16 │*{usd(one)} │",
            f"│ (outside tests) *│*1 │*│*{usd(import_cost)} │",
            "├*┤",
            f"│ Total (4 tests) *│*4 │*│*{usd(total)} │",
            "└*┘",
            "2 of 4 tests made no LLM calls.",
        ]
    )


def test_without_the_option_no_report_is_printed(pytester: pytest.Pytester) -> None:
    suite(pytester, test_spend=SPENDING)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.no_fnmatch_line("*tokenbudget: LLM cost per test*")


def test_the_json_file_has_every_test(pytester: pytest.Pytester) -> None:
    suite(pytester, test_spend=SPENDING)
    result = pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-json=out/usage.json")
    result.assert_outcomes(passed=3, failed=1)
    path = pytester.path / "out" / "usage.json"
    result.stdout.fnmatch_lines([f"tokenbudget: per-test usage written to {path}"])
    document = json.loads(path.read_text())

    one = cost_of()
    assert document["schema_version"] == 1
    assert document["mode"] == "live"
    assert document["recording"] is None
    tests = {test["nodeid"]: test for test in document["tests"]}
    assert list(tests) == sorted(tests)
    twice = tests["test_spend.py::test_twice"]
    assert twice["outcome"] == "passed"
    assert twice["calls"] == 2
    assert Decimal(twice["cost_usd"]) == Decimal(twice["spent_usd"]) == 2 * one
    assert twice["by_model"] == {
        "gpt-4o": {"calls": 2, "total_tokens": 32, "cost_usd": format(2 * one, "f")}
    }
    assert twice["usage"]["input_tokens"] + twice["usage"]["output_tokens"] == 32
    assert tests["test_spend.py::test_idle"]["calls"] == 0
    over = tests["test_spend.py::test_over"]
    assert over["outcome"] == "failed"
    assert over["limits"] == {"max_cost_usd": None, "max_tokens": None, "max_calls": 0}
    assert over["problem"].startswith("tokenbudget: test tried to make more than max_calls=0")
    assert [item["nodeid"] for item in document["outside_tests"]] == ["(outside tests)"]
    assert document["total"]["calls"] == 4
    assert Decimal(document["total"]["cost_usd"]) == 3 * one + cost_of("at import")


@pytest.mark.parametrize(("factor", "code"), [(Decimal("0.5"), 1), (Decimal(2), 0)])
def test_the_run_fails_when_it_costs_more_than_the_limit(
    pytester: pytest.Pytester, factor: Decimal, code: int
) -> None:
    suite(
        pytester,
        test_run="""
        import llm

        def test_a():
            llm.ask(llm.client())

        def test_b():
            llm.ask(llm.client())
        """,
    )
    total = 2 * cost_of()
    limit = total * factor
    result = pytester.runpytest("-p", "no:cacheprovider", f"--tokenbudget-max-cost={limit}")
    result.assert_outcomes(passed=2)
    assert result.ret == code
    line = (
        f"tokenbudget: the run's LLM calls cost {usd(total)} > --tokenbudget-max-cost={usd(limit)}*"
    )
    if code:
        result.stdout.fnmatch_lines([line])
    else:
        result.stdout.no_fnmatch_line(line)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--tokenbudget-max-cost=lots"],
            "ERROR: --tokenbudget-max-cost must be an amount in dollars such as 0.50, not 'lots'",
        ),
        (
            ["--tokenbudget-record=a", "--tokenbudget-replay=b"],
            "ERROR: --tokenbudget-record and --tokenbudget-replay exclude each other*",
        ),
        (
            ["--tokenbudget-replay=missing"],
            "ERROR: --tokenbudget-replay: no recording at */missing; make one with "
            "--tokenbudget-record=missing",
        ),
    ],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    suite(pytester)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_p_no_tokenbudget_turns_the_plugin_off(pytester: pytest.Pytester) -> None:
    suite(
        pytester,
        test_off="""
        import llm

        def test_untracked():
            client = llm.client()
            assert "Tracking" not in type(client._client._transport).__name__

        def test_fixture(tokenbudget):
            pass
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:tokenbudget")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'tokenbudget' not found*"])
    off = pytester.runpytest("-p", "no:tokenbudget", "--tokenbudget-report")
    assert off.ret == pytest.ExitCode.USAGE_ERROR


def test_p_tokenbudget_loads_it_when_autoload_is_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    suite(pytester)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")  # no pytest-asyncio here
    pytester.makepyfile(
        test_on="""
        import llm

        def test_tracked(tokenbudget):
            llm.ask(llm.client())
            tokenbudget.assert_calls(1)
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "tokenbudget")
    result.assert_outcomes(passed=1)
