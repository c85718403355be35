"""examples/reports.py runs offline and leaves a store, CSV, JSON and HTML behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tokenbudget.reports import read_json
from tokenbudget.store import SQLiteStore

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "reports.py"


def test_reports_example(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "│ Model " in result.stdout and "│ feature " in result.stdout
    with SQLiteStore(tmp_path / "usage.db", create=False) as store:
        stored = store.summary()
    exported = read_json(tmp_path / "usage.json")
    assert len(exported.records) == stored.calls > 100  # two weeks of simulated history
    assert (tmp_path / "usage.csv").stat().st_size > 0
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("<svg") == 2
