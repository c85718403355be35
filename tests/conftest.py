"""Shared test setup: offline tokenizer files, fixture loading, a price book with known prices."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# tiktoken must never reach the internet in tests: use the shared encodings.
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT.parent / "shared" / "tiktoken"))

# Never let a developer's own price override leak into the tests.
os.environ.pop("TOKENBUDGET_PRICES", None)


def pytest_report_header(config: pytest.Config) -> list[str]:
    families = [name for name in ("httpx", "httpx2") if importlib.util.find_spec(name)]
    return [f"tokenbudget: httpx families installed: {', '.join(families) or 'none'}"]
