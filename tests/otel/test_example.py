"""examples/otel.py runs offline and prints the GenAI metrics and spans of its calls."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "otel.py"


def test_the_otel_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # this checkout's tokenbudget, whatever the environment has installed
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "chat gpt-4o (CLIENT)" in out and "chat gpt-4o-mini (CLIENT)" in out
    for name in (
        "gen_ai.client.token.usage [{token}]",
        "gen_ai.client.operation.duration [s]",
        "gen_ai.client.operation.time_to_first_chunk [s]",
        "tokenbudget.cost [USD]",
        "tokenbudget.budget.limit [USD]",
        "tokenbudget.tag.feature = 'tips'",
        "tokenbudget.time_to_first_chunk_s",
    ):
        assert name in out
    assert "value=1  {tokenbudget.budget.name=daily}" in out
    assert "Cache identical calls" not in out  # the answer's text is never exported
