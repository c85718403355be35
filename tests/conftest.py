"""Shared test setup: offline tokenizer files, no price override, and the family and mode fixtures.

Shared helpers (fixture files, the stub price book, records, mock transports) are in
``support.py``; each folder's own are in its ``helpers.py``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# tiktoken must never reach the internet in tests: use the shared encodings.
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT.parent / "shared" / "tiktoken"))

# CI machines are small and shared: a property's first example may load the whole price
# book while another process holds the CPU, so no per-example deadline (the tests assert
# results, never speed; benchmarks/ measures speed).
# The compatibility matrix's environments have no hypothesis (tests/compat uses none).
if importlib.util.find_spec("hypothesis") is not None:
    from hypothesis import settings

    settings.register_profile("tokenbudget", deadline=None)
    settings.load_profile("tokenbudget")

# Never let a developer's own price override leak into the tests.
os.environ.pop("TOKENBUDGET_PRICES", None)


def pytest_report_header(config: pytest.Config) -> list[str]:
    families = [name for name in ("httpx", "httpx2") if importlib.util.find_spec(name)]
    return [f"tokenbudget: httpx families installed: {', '.join(families) or 'none'}"]


@pytest.fixture(params=["httpx", "httpx2"])
def family(request: pytest.FixtureRequest) -> str:
    """Each httpx family: a test taking ``family`` runs once over each."""
    name: str = request.param
    return name


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Sync and async clients: a test taking ``mode`` runs once with each."""
    name: str = request.param
    return name


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems have (0o022): new files would be 0644 and folders 0755
    without care. For tests of the modes tokenbudget gives what it creates."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)
