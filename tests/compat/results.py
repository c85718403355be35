"""The compatibility sessions' pytest plugin: the no-skip rule and the results file.

``noxfile.py`` loads it with ``-p tests.compat.results``. ``TOKENBUDGET_COMPAT_TARGET``
names the SDK or framework the session installed: a skip of one of its tests
is turned into a failure (unless the installed version lacks the scenario),
and a session in which none of them passed fails. With
``TOKENBUDGET_COMPAT_RESULTS`` set to a folder, the session writes
``<TOKENBUDGET_COMPAT_SESSION>.json`` there: the versions installed, each
scenario's outcomes, the failing tests by route and exception, and what every
refusal looked like to the user. Every test the session runs counts, the
extra ones of ``matrix.EXTRA_TESTS`` as "other tests".
``python -m tests.compat.table`` turns those files into the README's table.
"""

from __future__ import annotations

import json
import os
import platform
from collections import defaultdict
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import tokenbudget

from .helpers import NOT_IN_THIS_VERSION, Refusal, target

RESULTS_ENV = "TOKENBUDGET_COMPAT_RESULTS"
SESSION_ENV = "TOKENBUDGET_COMPAT_SESSION"

#: Distributions whose installed versions a result names, when present.
DISTRIBUTIONS = (
    "openai",
    "anthropic",
    "google-genai",
    "langchain-openai",
    "langchain-core",
    "litellm",
    "pydantic-ai-slim",
    "instructor",
    "httpx",
    "httpx2",
    "aiohttp",
    "requests",
)


class Results:
    """Outcomes by scenario and the refusals observed, gathered during the run."""

    def __init__(self) -> None:
        self.scenarios: dict[str, dict[str, int]] = defaultdict(
            lambda: {"passed": 0, "failed": 0, "skipped": 0, "n/a": 0}
        )
        self.refusals: list[dict[str, Any]] = []
        self.failures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.target_passed = 0

    def add(self, scenario: str, outcome: str) -> None:
        self.scenarios[scenario][outcome] += 1

    def as_json(self) -> dict[str, Any]:
        packages = {}
        for name in DISTRIBUTIONS:
            try:
                packages[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        return {
            "session": os.environ.get(SESSION_ENV, "main"),
            "target": target(),
            "python": platform.python_version(),
            "packages": packages,
            "scenarios": dict(sorted(self.scenarios.items())),
            "refusals": self.refusals,
            "failures": {
                route: dict(sorted(errors.items()))
                for route, errors in sorted(self.failures.items())
            },
        }


RESULTS = Results()


def _target_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("compat")
    return str(marker.args[0]) if marker else None


def _scenarios_of(item: pytest.Item) -> list[str]:
    marker = item.get_closest_marker("scenario")
    if marker is not None:
        return [str(name) for name in marker.args]
    return ["other tests" if _target_of(item) is None else item.name]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # In a session, an old SDK's or a framework's own deprecation notices are no part of
    # what any of its test files checks (tests/compat's conftest does the same for its
    # own tests in the main suite); tokenbudget's are.
    for item in items:
        item.add_marker(
            pytest.mark.filterwarnings("ignore::DeprecationWarning:(?!tokenbudget)"),
            append=False,
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    own = _target_of(item) is not None and _target_of(item) == target()
    if own and report.skipped:
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
        if NOT_IN_THIS_VERSION not in reason:
            report.outcome = "failed"
            report.longrepr = f"the session's own target must not skip: {reason}"
    if report.when == "call" or (report.when == "setup" and not report.passed):
        skipped_as_na = report.skipped and NOT_IN_THIS_VERSION in str(report.longrepr)
        for scenario in _scenarios_of(item):
            RESULTS.add(scenario, "n/a" if skipped_as_na else report.outcome)
        if own and report.passed:
            RESULTS.target_passed += 1
        if report.failed:
            error = call.excinfo.typename if call.excinfo is not None else "failed"
            RESULTS.failures[_route_of(item)][error] += 1


def _route_of(item: pytest.Item) -> str:
    """How the test's client was tracked (``patch_all`` for the frameworks' tests)."""
    if _target_of(item) is None:
        return "other tests"
    params = getattr(getattr(item, "callspec", None), "params", {})
    return str(params.get("route", "patch_all"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if target() and RESULTS.target_passed == 0 and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nno test of the session's target {target()!r} passed")
    folder = os.environ.get(RESULTS_ENV)
    if folder and not hasattr(session.config, "workerinput"):  # not in an xdist worker
        path = Path(folder) / f"{os.environ.get(SESSION_ENV, 'main')}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(RESULTS.as_json(), indent=2, sort_keys=True) + "\n")


def describe(item: pytest.Item, outcome: Refusal) -> dict[str, Any]:
    """A refusal as the results file keeps it: the user's exception and what it holds."""
    error = outcome.error
    finder = getattr(tokenbudget, "budget_refusal", None)
    found = None if finder is None or error is None else finder(error) is outcome.refused
    if finder is None:
        found = "no tokenbudget.budget_refusal"
    return {
        "test": item.nodeid,
        "scenario": _scenarios_of(item)[0],
        "type": _name(type(error)) if error is not None else None,
        "budget_error_itself": isinstance(error, tokenbudget.BudgetExceeded),
        "chain": _chain(error),
        "found_by_budget_refusal": found,
        "refusals": len(outcome.refusals),
        "requests": outcome.requests,
        "seconds": round(outcome.elapsed, 3),
    }


def _name(cls: type) -> str:
    """``package.Class``: where a user would import the class from."""
    return f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"


def _chain(error: BaseException | None) -> list[str]:
    """How the refusal hangs in the user's exception: each link's type and the way to it
    (``__cause__``, ``__context__``, or an attribute of the exception that holds it)."""
    links: list[str] = []
    seen: set[int] = set()
    way = ""
    while error is not None and id(error) not in seen and len(links) < 8:
        seen.add(id(error))
        links.append(f"{way}{_name(type(error))}")
        held = [(name, value) for name, value in _attributes(error) if id(value) not in seen]
        if error.__cause__ is not None:
            way, error = "__cause__: ", error.__cause__
        elif error.__context__ is not None and not error.__suppress_context__:
            way, error = "__context__: ", error.__context__
        elif held:
            way, error = f".{held[0][0]}: ", held[0][1]
        else:
            error = None
    return links


def _attributes(error: BaseException) -> list[tuple[str, BaseException]]:
    """The exceptions an exception holds in its attributes (frameworks keep the original)."""
    values = getattr(error, "__dict__", {})
    return [(name, value) for name, value in values.items() if isinstance(value, BaseException)]
