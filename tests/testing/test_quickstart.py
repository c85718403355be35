"""examples/quickstart.py runs offline, against FakeLLM, and reports non-zero usage."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


def test_quickstart_runs_offline_and_counts_tokens() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", str(QUICKSTART)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    total = re.search(r"total:\s+Usage\(total_tokens=(\d+), .*calls=4", result.stdout)
    assert total is not None, result.stdout
    assert int(total.group(1)) > 0
    for endpoint in ("chat", "responses", "embeddings"):
        assert re.search(rf"^\s+{endpoint}\s+\S+\s+in=[1-9]", result.stdout, re.MULTILINE)
