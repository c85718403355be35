"""Fixtures for the tests of ``tokenbudget.testing``: the fake_llm fixture and SDK helpers."""

from __future__ import annotations

import pytest

from tokenbudget.testing import fake_llm  # noqa: F401  (the fixture under test)

FAMILIES = ["httpx2", "httpx"]
MODES = ["sync", "async"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fake_llm(*args, **kwargs): configure the fake_llm fixture")


@pytest.fixture(params=FAMILIES)
def family(request: pytest.FixtureRequest) -> str:
    """Each httpx family an SDK accepts."""
    name: str = request.param
    return name


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Sync and async SDK clients."""
    name: str = request.param
    return name
