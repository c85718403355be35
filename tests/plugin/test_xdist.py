"""pytest-xdist: each worker tracks its tests; the controller reports and limits the whole run."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from .helpers import cost_of, suite, usd

pytest.importorskip("xdist", reason="pytest-xdist is not installed (pip install pytest-xdist)")

MODULE = """
import llm

CLIENT = llm.client()

def test_{name}_1(tokenbudget):
    llm.ask(CLIENT, "{name} one")
    tokenbudget.assert_calls(1)

def test_{name}_2(tokenbudget):
    llm.ask(CLIENT, "{name} two")
    tokenbudget.assert_calls(1)
"""


def test_workers_results_are_merged_on_the_controller(pytester: pytest.Pytester) -> None:
    suite(pytester, test_left=MODULE.format(name="left"), test_right=MODULE.format(name="right"))
    costs = {
        f"test_{name}.py::test_{name}_{n}": cost_of(f"{name} {word}")
        for name in ("left", "right")
        for n, word in ((1, "one"), (2, "two"))
    }
    total = sum(costs.values(), Decimal(0))
    limit = max(costs.values()) * 3  # above what one worker (two tests) spends, below the run
    assert max(costs.values()) * 2 < limit < total

    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "--dist",
        "loadfile",
        "--tokenbudget-report",
        "--tokenbudget-json=usage.json",
        f"--tokenbudget-max-cost={limit}",
        "--tokenbudget-record=recorded",
    )

    result.assert_outcomes(passed=4)
    assert result.ret == 1  # the merged total is over the limit; neither worker alone is
    result.stdout.fnmatch_lines_random(
        [f"│ {nodeid} *│*1 │*│*{usd(cost)} │" for nodeid, cost in costs.items()]
        + [
            f"│ Total (4 tests) *│*4 │*│*{usd(total)} │",
            f"tokenbudget: the run's LLM calls cost {usd(total)} > "
            f"--tokenbudget-max-cost={usd(limit)}: the run fails",
            "tokenbudget: recorded 4 answers in */recorded (4 files)",
        ]
    )
    document = json.loads((pytester.path / "usage.json").read_text())
    tests = {test["nodeid"]: test for test in document["tests"]}
    assert {nodeid: Decimal(test["cost_usd"]) for nodeid, test in tests.items()} == costs
    assert {test["worker"] for test in tests.values()} == {"gw0", "gw1"}
    assert document["over_limit"] is True
    assert Decimal(document["total"]["cost_usd"]) == total
