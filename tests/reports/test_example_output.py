"""What examples/reports.py writes lands where its docstring says, and git ignores it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "reports.py"


def _git(cwd: Path, *argv: str) -> str:
    done = subprocess.run(
        ["git", *argv], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_default_output_folder_is_ignored(tmp_path: Path) -> None:
    """Run as documented, from a checkout's root with no argument: the tree stays clean."""
    _git(tmp_path, "init", "-q")
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    done = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    written = {path.name for path in (tmp_path / "report-out").iterdir()}
    assert {"usage.db", "usage.csv", "usage.json", "report.html"} <= written
    assert f"wrote {Path('report-out') / 'report.html'}" in done.stdout
    untracked = _git(tmp_path, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert untracked == ["?? .gitignore"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize(
    "path",
    [
        "report-out/report.png",  # scripts/render_report.sh's picture
        "examples/report-out/usage.db-wal",
        "demo.db",  # README: tokenbudget demo --store demo.db
        "usage.db-shm",
    ],
)
def test_outputs_the_docs_suggest_are_ignored(path: str, tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    assert _git(tmp_path, "check-ignore", "--no-index", path).strip() == path
