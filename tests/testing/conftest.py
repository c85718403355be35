"""Setup of the tests of ``tokenbudget.testing``: the fake_llm fixture under test and its marker."""

from __future__ import annotations

import pytest

from tokenbudget.testing import fake_llm  # noqa: F401  (the fixture under test)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fake_llm(*args, **kwargs): configure the fake_llm fixture")
