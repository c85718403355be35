"""OpenTelemetry's SDK, in memory, for every test of ``tokenbudget.otel``.

The SDK is in the ``dev`` extra, so CI runs these tests; they skip only where
it is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .helpers import Otel


@pytest.fixture
def otel() -> Iterator[Otel]:
    """An in-memory metric reader and span exporter, with their providers."""
    from .helpers import Otel  # each test module skips first when the SDK is missing

    sdk = Otel()
    try:
        yield sdk
    finally:
        sdk.shutdown()


@pytest.fixture(autouse=True)
def _default_conventions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without a stability opt-in (a developer's shell may set one)."""
    monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
