"""The pytest hooks and fixtures, exported by ``tokenbudget.pytest_plugin`` (the registered plugin).

The plugin's life in a session:

- loaded (entry point ``pytest11: tokenbudget``): a :class:`~._run.Run` starts
  and patches every httpx/httpx2 client built from then on;
- ``pytest_configure``: the ``--tokenbudget-*`` options are checked and applied;
- around each test (``pytest_runtest_protocol``): a fresh tracker gets the
  test's calls; its marker is read before its fixtures run; after the test
  function, a limit passed or an unrecorded call fails the test;
- ``pytest_sessionfinish``: xdist workers send their results to the
  controller, which merges them (``pytest_testnodedown``), checks the run's
  cost limit, writes the JSON file and prints the table.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from ._options import RunOptions, TokenbudgetOptions
from ._report import table_lines, write_json
from ._run import WORKER_KEY, Run
from ._trackers import PytestTracker
from ._wording import usd

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_load_initial_conftests",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
    "pytest_runtest_setup",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "token_tracker",
    "tokenbudget",
]

RUN_KEY = pytest.StashKey[Run]()
TRACKER_KEY = pytest.StashKey[PytestTracker]()

MARKER = (
    "tokenbudget(max_cost_usd=None, max_tokens=None, max_calls=None): fail the test when its "
    "LLM calls pass a limit; the call that crosses it completes, later ones are refused"
)
FAKE_LLM_MARKER = "fake_llm(*args, **kwargs): configure the fake_llm fixture (FakeLLM's arguments)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tokenbudget", "LLM tokens and cost (tokenbudget)")
    group.addoption(
        "--tokenbudget-report",
        action="store_true",
        default=False,
        help="print the LLM calls, tokens and cost of each test at the end of the run",
    )
    group.addoption(
        "--tokenbudget-max-cost",
        metavar="USD",
        default=None,
        help="fail the run when its LLM calls cost more than USD dollars in total",
    )
    group.addoption(
        "--tokenbudget-json",
        metavar="PATH",
        default=None,
        help="write the LLM usage and cost of each test to PATH (JSON), e.g. for CI artefacts",
    )
    group.addoption(
        "--tokenbudget-record",
        metavar="DIR",
        default=None,
        help="make LLM calls for real and store every answer in DIR (API keys are never stored)",
    )
    group.addoption(
        "--tokenbudget-replay",
        metavar="DIR",
        default=None,
        help="answer LLM calls from DIR (made by --tokenbudget-record) and never send one: "
        "a call that was not recorded fails its test",
    )
    group.addoption(
        "--tokenbudget-host",
        metavar="HOST=PROVIDER",
        action="append",
        default=[],
        help="track calls to HOST (name or name:port) as PROVIDER speaks, e.g. "
        "localhost:4000=local (free) or llm-gw.internal=openai; repeatable",
    )
    parser.addini(
        "tokenbudget_hosts",
        type="linelist",
        default=[],
        help="hosts mapped to a provider, one HOST=PROVIDER a line (as --tokenbudget-host)",
    )
    parser.addini(
        "tokenbudget_ignore_fields",
        type="linelist",
        default=[],
        help="request body fields that do not change a recorded answer (e.g. user, "
        "metadata.user_id): left out of the recording's keys",
    )


def _run(config: pytest.Config) -> Run:
    """The config's run, started (clients patched) on first use."""
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        run = config.stash[RUN_KEY] = Run()
        run.start()
        config.add_cleanup(run.stop)
    return run


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # As early as a plugin can: SDK clients built when conftest.py files are imported are tracked.
    _run(early_config)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    config.addinivalue_line("markers", FAKE_LLM_MARKER)
    run = _run(config)
    try:
        options = RunOptions.from_values(
            base=config.invocation_params.dir,
            report=bool(config.getoption("tokenbudget_report")),
            max_cost=config.getoption("tokenbudget_max_cost"),
            json_path=config.getoption("tokenbudget_json"),
            record=config.getoption("tokenbudget_record"),
            replay=config.getoption("tokenbudget_replay"),
            ignore_fields=tuple(config.getini("tokenbudget_ignore_fields")),
            hosts=[*config.getini("tokenbudget_hosts"), *config.getoption("tokenbudget_host")],
        )
        workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
        run.configure(options, workerinput["workerid"] if workerinput else None)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = config.stash.get(RUN_KEY, None)
    if run is None or run.recording is None:
        return []
    verb = "recording LLM calls to" if run.mode == "record" else "replaying LLM calls from"
    return [f"tokenbudget: {verb} {run.recording.directory}"]


# -- each test -------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    run = item.config.stash[RUN_KEY]
    tracker = item.stash[TRACKER_KEY] = run.begin_test(item.nodeid)
    try:
        return (yield)
    finally:
        run.end_test(tracker)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    tracker = item.stash.get(TRACKER_KEY, None)
    marker = item.get_closest_marker("tokenbudget")
    if tracker is None or marker is None:
        return
    try:
        tracker.options = TokenbudgetOptions.from_marker(marker.args, marker.kwargs)
    except (TypeError, ValueError) as exc:
        pytest.fail(f"@pytest.mark.tokenbudget: {exc}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None]:
    tracker = item.stash.get(TRACKER_KEY, None)
    if tracker is None:
        return (yield)
    try:
        result = yield
    except BaseException as error:
        # The test failed already (maybe from one of our refusals): add what was spent.
        problem = tracker.problem()
        if problem is not None and problem not in str(error):
            item.add_report_section("call", "tokenbudget", problem)
        raise
    problem = tracker.problem()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    run = item.config.stash.get(RUN_KEY, None)
    if run is not None:
        outcome: str = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        run.note_outcome(item.nodeid, report.when, outcome)
    return report


# -- the end of the run ------------------------------------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: a worker is done; add its results."""
    run = node.config.stash.get(RUN_KEY, None)
    if run is not None:
        output = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        run.merge_worker(str(node.gateway.id), output)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    run.finish()
    if run.worker is not None:
        config.workeroutput[WORKER_KEY] = run.worker_output()  # type: ignore[attr-defined]
        return
    if run.over_limit() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if run.options.json_path is not None:
        write_json(run, run.options.json_path)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is None or run.worker is not None:
        return
    write = terminalreporter.write_line
    if run.options.report:
        terminalreporter.write_sep("=", "tokenbudget: LLM cost per test")
        for line in table_lines(run):
            write(line)
    recording = run.recording
    if recording is not None and run.mode == "record":
        files = len(recording.backend)
        write(
            f"tokenbudget: recorded {run.stored} answers in {recording.directory} ({files} files)"
        )
    for note in run.notes:
        write(f"tokenbudget: {note}", yellow=True)
    if run.options.json_path is not None:
        write(f"tokenbudget: per-test usage written to {run.options.json_path}")
    limit = run.options.max_cost_usd
    if limit is not None and run.over_limit():
        write(
            f"tokenbudget: the run's LLM calls cost {usd(run.total().cost_usd)} > "
            f"--tokenbudget-max-cost={usd(limit)}: the run fails",
            red=True,
            bold=True,
        )


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def tokenbudget(request: pytest.FixtureRequest) -> PytestTracker:
    """This test's LLM calls: a fresh ``TokenTracker`` with cost assertions.

    Every call made while the test runs, by any SDK or httpx client (also one
    built at import time), is recorded on it, and removed from it when the
    test ends. ``@pytest.mark.tokenbudget(...)`` limits apply to its calls.
    """
    tracker: PytestTracker | None = request.node.stash.get(TRACKER_KEY, None)
    if tracker is None:
        pytest.fail(
            "tokenbudget: this test has no tracker; the fixture works only in tests run by "
            "pytest's runtest protocol with the tokenbudget plugin loaded",
            pytrace=False,
        )
    return tracker


@pytest.fixture
def token_tracker(tokenbudget: PytestTracker) -> PytestTracker:
    """Another name for the ``tokenbudget`` fixture."""
    return tokenbudget
