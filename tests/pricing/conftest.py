"""Pricing test setup: every test starts from the built-in data alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenbudget.pricing import reset_default_book, unregister_models


@pytest.fixture(autouse=True)
def isolated_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No user override file, a fresh default book, no registrations left behind."""
    monkeypatch.delenv("TOKENBUDGET_PRICES", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    reset_default_book()
    unregister_models()
    yield
    unregister_models()
    reset_default_book()
