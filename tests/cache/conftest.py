"""Cache test setup: every disk cache a test opens is closed when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tokenbudget.cache import DiskBackend


@pytest.fixture(autouse=True)
def close_disk_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close the SQLite connections of disk backends (Python 3.13 warns about open ones)."""
    opened: list[DiskBackend] = []
    original = DiskBackend.__init__

    def init(self: DiskBackend, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(DiskBackend, "__init__", init)
    yield
    for backend in opened:
        backend.close()
