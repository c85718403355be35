"""Helpers of the store tests: a store that fails on demand."""

from __future__ import annotations

from collections.abc import Sequence

from tokenbudget import CallRecord
from tokenbudget.store import SQLiteStore


class FlakyStore(SQLiteStore):
    """An in-memory SQLite store whose writes fail while ``failing`` is set."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.failing = True
        self.attempts = 0

    def append(self, records: Sequence[CallRecord]) -> None:
        self.attempts += 1
        if self.failing:
            raise OSError("disk full")
        super().append(records)
