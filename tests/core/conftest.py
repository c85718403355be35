"""Fixtures of the core's tests."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest


@pytest.fixture
def tb_warnings(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Callable[[], list[str]]:
    """Forget which failures were logged already; returns a function listing the warnings since.

    tokenbudget logs each kind of its own failures once per process (``warn_once``),
    so a test about that logging starts from an empty set of logged kinds.
    """
    monkeypatch.setattr("tokenbudget._core._log._warned", set())
    caplog.set_level(logging.WARNING, logger="tokenbudget")

    def warnings() -> list[str]:
        return [
            record.getMessage()
            for record in caplog.records
            if record.name.startswith("tokenbudget") and record.levelno == logging.WARNING
        ]

    return warnings
