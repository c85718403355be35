"""examples/caching.py runs offline and shows hits that never reached the provider."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "caching.py"


def test_the_caching_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "requests that reached the provider: 4" in result.stdout
    assert "cache: 2 hits, 2 misses, hit rate 50%" in result.stdout
    assert result.stdout.count("cached=True  cost $0 saved $0.0") == 2
