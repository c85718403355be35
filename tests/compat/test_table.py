"""The README's compatibility table: rendered from the sessions' results, checked against README."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .matrix import ENVIRONMENTS, ROOT, uv_environment
from .table import END, START, main, render, replace_table

OLD = next(environment for environment in ENVIRONMENTS if environment.name == "openai-1.40")
FRAMEWORK = next(environment for environment in ENVIRONMENTS if environment.framework)


def result(**overrides: Any) -> dict[str, Any]:
    """A session's results file as conftest writes it: all passed, refusal included."""
    passed = {"passed": 2, "failed": 0, "skipped": 0, "n/a": 0}
    refusal = {
        "budget_error_itself": True,
        "chain": ["tokenbudget.BudgetExceeded"],
        "found_by_budget_refusal": True,
        "refusals": 1,
        "requests": 0,
        "scenario": "refusal",
        "seconds": 0.003,
        "test": "tests/compat/test_openai.py::test_refusal[patch_all]",
        "type": "tokenbudget.BudgetExceeded",
    }
    return (
        {
            "packages": {"openai": "1.40.0", "httpx": "0.27.2", "httpx2": "2.17.0"},
            "scenarios": {"sync": passed, "Responses": {**passed, "passed": 0, "n/a": 2}},
            "refusals": [refusal],
            "failures": {},
        }
        | {"scenarios": {"sync": passed, "refusal": passed}}
        | overrides
    )


def row_of(table: str, versions: str) -> str:
    return next(line for line in table.splitlines() if versions in line)


def write(folder: Path, name: str, content: dict[str, Any]) -> None:
    (folder / f"{name}.json").write_text(json.dumps(content))


def test_a_passing_session_is_one_row_of_ticks(tmp_path: Path) -> None:
    write(tmp_path, OLD.name, result())
    row = row_of(render(tmp_path), "openai 1.40.0, httpx 0.27.2")
    assert row.split(" | ")[2:] == ["sync ✓", "`BudgetExceeded`", "✓", "none |"]


def test_a_refusal_that_was_retried_shows_its_chain_and_counts(tmp_path: Path) -> None:
    retried = {
        "budget_error_itself": False,
        "chain": [
            "openai.APIConnectionError",
            "__cause__: tokenbudget.BudgetExceeded",
            "__context__: tokenbudget.BudgetExceeded",
        ],
        "found_by_budget_refusal": False,
        "refusals": 3,
        "requests": 0,
    }
    failed = {"passed": 0, "failed": 3, "skipped": 0, "n/a": 0}
    scenarios = {"sync": {"passed": 1, "failed": 1, "skipped": 0, "n/a": 0}, "refusal": failed}
    failures = {"http_client": {"TypeError": 4}, "patch_all": {"AssertionError": 3}}
    write(tmp_path, OLD.name, result(refusals=[retried], scenarios=scenarios, failures=failures))
    cells = row_of(render(tmp_path), "openai 1.40.0").split(" | ")
    assert cells[2:] == [
        "sync ✗",
        "`openai.APIConnectionError` → `__cause__` `BudgetExceeded`",  # down to the refusal
        "✗ (retried: refused 3 times, not found by `budget_refusal`)",
        "`http_client`: TypeError (4)<br>`patch_all`: AssertionError (3) |",
    ]


def test_a_framework_must_have_budget_refusal(tmp_path: Path) -> None:
    missing = result()["refusals"][0] | {"found_by_budget_refusal": "no tokenbudget.budget_refusal"}
    failed = {"passed": 0, "failed": 1, "skipped": 0, "n/a": 0}
    write(tmp_path, FRAMEWORK.name, result(refusals=[missing], scenarios={"refusal": failed}))
    row = row_of(render(tmp_path), f"| {FRAMEWORK.target}")
    assert "✗ (no `budget_refusal`)" in row


def test_a_session_that_did_not_run_says_so(tmp_path: Path) -> None:
    row = row_of(render(tmp_path), "openai==1.40.0")
    assert "| not run |" in row


def test_the_table_goes_between_the_markers() -> None:
    readme = f"intro\n{START}\nold\n{END}\noutro\n"
    assert replace_table(readme, "new") == f"intro\n{START}\nnew\n{END}\noutro\n"
    with pytest.raises(SystemExit, match="markers"):
        replace_table("no markers here", "new")


def test_check_fails_until_the_table_is_written(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{START}\nstale\n{END}\n")
    write(tmp_path, OLD.name, result())
    arguments = ["--results", str(tmp_path), "--readme", str(readme)]
    assert main([*arguments, "--check"]) == 1
    assert main(arguments) == 0
    assert main([*arguments, "--check"]) == 0
    assert "stale" not in readme.read_text()


def test_readme_has_one_row_per_environment() -> None:
    table = (ROOT / "README.md").read_text().partition(START)[2].partition(END)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(ENVIRONMENTS)  # the header, then each environment


def test_uv_gets_the_indexes_pip_is_configured_with() -> None:
    pip = {
        "find-links": "/opt/wheels /srv/more",
        "extra-index-url": "file:///a file:///b",
        "constraint": "/etc/c.txt",
        "cert": "/etc/ssl/certs/ca.crt",
    }
    assert uv_environment(pip, {"UV_CONSTRAINT": "mine.txt"}) == {
        "UV_FIND_LINKS": "/opt/wheels,/srv/more",
        "UV_EXTRA_INDEX_URL": "file:///a file:///b",
        "UV_INDEX_STRATEGY": "unsafe-best-match",  # pip's way: the best version anywhere
    }
    assert uv_environment({}, {}) == {}
