"""In-process budget accounts across ``fork``: the parent's calls in flight stay the parent's."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from typing import Any

from tokenbudget.budgets import Amount, InMemoryBackend

_FORK = multiprocessing.get_context("fork")


def _reserved_in_child(backend: InMemoryBackend, results: Any) -> None:
    held, _ = backend.reserve("2026-03-01", Amount(Decimal("0.5"), 10), None)
    results.put((held, backend.read("2026-03-01").reserved))


def test_a_child_does_not_inherit_the_parents_holds() -> None:
    backend = InMemoryBackend()
    held, _ = backend.reserve("2026-03-01", Amount(Decimal("0.25"), 5), None)  # a call in flight
    assert held
    results = _FORK.Queue()
    child = _FORK.Process(target=_reserved_in_child, args=(backend, results))
    child.start()
    assert results.get(timeout=60) == (True, Amount(Decimal("0.5"), 10))
    child.join(60)
    assert backend.read("2026-03-01").reserved == Amount(Decimal("0.25"), 5)
