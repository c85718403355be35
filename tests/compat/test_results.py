"""The sessions' plugin: the session's own target may not skip, and the results file says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .matrix import ROOT

DEMO = """
import pytest

from tests.compat.helpers import not_in_this_version

pytestmark = pytest.mark.compat("openai")


@pytest.mark.scenario("sync", "tools")
def test_passes():
    pass


@pytest.mark.scenario("stream")
def test_skips():
    pytest.skip("openai is not installed")


@pytest.mark.scenario("Responses")
def test_not_in_this_version():
    not_in_this_version("openai 1.40 has no client.responses")
"""


@pytest.fixture
def session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A session of target ``openai`` whose results go to the returned file."""
    pytester.makeini("[pytest]\nmarkers =\n    compat\n    scenario\n")
    pytester.makepyfile(test_demo=DEMO)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("TOKENBUDGET_COMPAT_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("TOKENBUDGET_COMPAT_SESSION", "demo")
    return tmp_path / "results" / "demo.json"


def test_a_skip_of_the_sessions_target_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, session: Path
) -> None:
    monkeypatch.setenv("TOKENBUDGET_COMPAT_TARGET", "openai")
    result = pytester.runpytest_subprocess("-p", "tests.compat.results")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*the session's own target must not skip*not installed*"])
    written = json.loads(session.read_text())
    assert written["target"] == "openai"
    assert written["scenarios"] == {
        "Responses": {"passed": 0, "failed": 0, "skipped": 0, "n/a": 1},
        "stream": {"passed": 0, "failed": 1, "skipped": 0, "n/a": 0},
        "sync": {"passed": 1, "failed": 0, "skipped": 0, "n/a": 0},
        "tools": {"passed": 1, "failed": 0, "skipped": 0, "n/a": 0},
    }
    assert written["failures"] == {"patch_all": {"Skipped": 1}}


def test_another_target_may_skip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, session: Path
) -> None:
    monkeypatch.setenv("TOKENBUDGET_COMPAT_TARGET", "anthropic")
    result = pytester.runpytest_subprocess("-p", "tests.compat.results")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*no test of the session's target 'anthropic' passed*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # its own tests never ran
