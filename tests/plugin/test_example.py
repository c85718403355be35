"""examples/pytest_costs runs as its README says: offline, with a report, recorded then replayed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytest_costs"
TESTS = [
    "test_a_batch_stays_within_its_budget",
    "test_triage_takes_two_calls_to_the_small_model",
    "test_a_one_call_limit_is_too_tight",
    "test_a_summary_is_one_cheap_call",
]


@pytest.fixture
def example(pytester: pytest.Pytester) -> Path:
    for name in ("pipeline.py", "conftest.py", "test_pipeline.py", "pytest.ini"):
        shutil.copy(EXAMPLE / name, pytester.path / name)
    return pytester.path


def test_the_example_suite_passes_and_reports_its_costs(
    pytester: pytest.Pytester, example: Path
) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-report")
    result.assert_outcomes(passed=3, xfailed=1)
    result.stdout.fnmatch_lines(
        [
            "*tokenbudget: LLM cost per test*",
            *(f"│ test_pipeline.py::{name} *│*│*│*$0.0000* │" for name in TESTS),
            "│ Total (4 tests) *│ * 10 │*│*$0.000* │",
        ]
    )


def test_the_example_replays_its_recording_on_the_real_client(
    pytester: pytest.Pytester, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-record=recordings")
    recorded.assert_outcomes(passed=3, xfailed=1)

    monkeypatch.setenv("PIPELINE_LIVE", "1")  # openai.OpenAI() on the real transport
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-needed")
    replayed = pytester.runpytest(
        "-p", "no:cacheprovider", "--tokenbudget-replay=recordings", "--tokenbudget-report"
    )
    replayed.assert_outcomes(passed=3, xfailed=1)
    replayed.stdout.fnmatch_lines(["*Recorded cost*", "Replayed from *recordings: *"])
