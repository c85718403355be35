"""Render the compatibility matrix's results as the README's table.

``python -m tests.compat.table`` reads ``.compat-results/*.json`` (written by the
nox sessions of ``noxfile.py``) and writes the table into README.md between
``<!-- compat-table:start -->`` and ``<!-- compat-table:end -->``; ``--check``
writes nothing and fails when README's table is not the one the results give.
Only what does not change from run to run goes in: the versions the matrix
pins, each scenario's outcome, and what a refusal looked like (no timings).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

from .matrix import ENVIRONMENTS, RESULTS, ROOT, Environment

START = "<!-- compat-table:start -->"
END = "<!-- compat-table:end -->"
#: The columns' scenarios, in order (refusal has its own columns).
TRACKED = ("sync", "async", "stream", "tools", "embeddings", "Responses", "cache", "other tests")
HEADER = (
    "| SDK / framework | versions tried | tracked exactly (vs. the server's figures) "
    "| refusal: what the user gets | refused at once, nothing sent | failing tests |\n"
    "|---|---|---|---|---|---|"
)


def render(results: Path = RESULTS) -> str:
    """The markdown table, one row per environment of the matrix."""
    rows = [HEADER]
    for environment in ENVIRONMENTS:
        path = results / f"{environment.name}.json"
        result = json.loads(path.read_text()) if path.exists() else None
        rows.append(_row(environment, result))
    return "\n".join(rows)


def _row(environment: Environment, result: dict[str, Any] | None) -> str:
    name = environment.target + (f" ({environment.note})" if environment.note else "")
    if result is None:
        return f"| {name} | {' '.join(environment.install)} | not run | | | |"
    packages = result["packages"]
    versions = ", ".join(
        f"{package} {packages.get(package, '?')}" for package in environment.pinned
    )
    scenarios: dict[str, dict[str, int]] = result["scenarios"]
    tracked = " · ".join(
        f"{scenario} {_mark(scenarios[scenario])}" for scenario in TRACKED if scenario in scenarios
    )
    refusal = scenarios.get("refusal")
    at_once = _mark(refusal) if refusal else "✗ not tested"
    if refusal and _mark(refusal) == "✗":
        at_once += _how(result["refusals"], environment.framework)
    seen = _seen(result["refusals"])
    return f"| {name} | {versions} | {tracked} | {seen} | {at_once} | {_failing(result)} |"


def _failing(result: dict[str, Any]) -> str:
    """How many tests failed, by route and exception type (the run's log has the rest)."""
    failures: dict[str, dict[str, int]] = result.get("failures", {})
    parts = [
        f"`{route}`: " + ", ".join(f"{error} ({count})" for error, count in errors.items())
        for route, errors in failures.items()
    ]
    return "<br>".join(parts) or "none"


def _mark(outcomes: dict[str, int]) -> str:
    if outcomes["failed"]:
        return "✗"
    return "✓" if outcomes["passed"] else "n/a"


def _seen(refusals: list[dict[str, Any]]) -> str:
    """The distinct ways the refusal reached the user, down to tokenbudget's error."""
    seen: list[str] = []
    for refusal in refusals:
        links: list[str] = []
        for link in refusal["chain"]:
            links.append(_link(link))
            if link.rpartition(": ")[2].startswith("tokenbudget."):
                break
        text = " → ".join(links) if links else "nothing raised"
        if text not in seen:
            seen.append(text)
    return "<br>".join(seen) or "-"


def _link(link: str) -> str:
    way, _, name = link.rpartition(": ")
    name = f"`{name.removeprefix('tokenbudget.')}`"
    return f"`{way}` {name}" if way else name


def _how(refusals: list[dict[str, Any]], framework: bool) -> str:
    """Why a refusal failed, in figures that do not vary (counts, not seconds).

    ``budget_refusal`` matters where the user does not get the budget error itself,
    and for every framework (whose tests ask it).
    """
    notes: list[str] = []
    for refusal in refusals:
        note = []
        if refusal["refusals"] > 1:
            note.append(f"retried: refused {refusal['refusals']} times")
        if refusal["requests"]:
            note.append(f"{refusal['requests']} sent")
        found = refusal["found_by_budget_refusal"]
        if refusal["budget_error_itself"] and not framework:
            found = None
        if isinstance(found, str):
            note.append(found.replace("tokenbudget.budget_refusal", "`budget_refusal`"))
        elif found is False:
            note.append("not found by `budget_refusal`")
        text = ", ".join(note)
        if text and text not in notes:
            notes.append(text)
    return f" ({'; '.join(notes)})" if notes else ""


def replace_table(readme: str, table: str) -> str:
    """``readme`` with the text between the markers replaced by ``table``."""
    head, start, rest = readme.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"README.md has no {START} ... {END} markers")
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.compat.table", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if README's table differs")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the sessions' results")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    options = parser.parse_args(argv)
    readme = options.readme.read_text()
    updated = replace_table(readme, render(options.results))
    if options.check:
        if updated != readme:
            diff = difflib.unified_diff(
                readme.splitlines(), updated.splitlines(), "README.md", "this run", lineterm=""
            )
            print("\n".join(diff), file=sys.stderr)
            print(
                "README.md's compatibility table differs from this run's results:"
                " run `python -m tests.compat.table` and commit README.md",
                file=sys.stderr,
            )
            return 1
        print("README.md's compatibility table matches this run")
        return 0
    options.readme.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
