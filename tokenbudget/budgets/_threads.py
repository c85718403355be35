"""Carrying budgets (and tags) into threads.

Budgets live in ``contextvars``. asyncio tasks and ``asyncio.to_thread`` copy
the caller's context by themselves; a plain ``threading.Thread`` or a
``ThreadPoolExecutor`` worker does not, so a call made there is not covered by
the budgets of the code that started it. These helpers copy the context.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from typing import Any, ParamSpec, TypeVar

__all__ = ["ContextExecutor", "context_executor", "in_context"]

P = ParamSpec("P")
T = TypeVar("T")


def in_context(fn: Callable[P, T]) -> Callable[P, T]:
    """``fn`` bound to the current context: wherever it runs, the budgets active now cover it.

    The context is captured when ``in_context`` is called; each call runs in a
    copy of it, so the wrapper may run in several threads at once::

        with budget(max_cost_usd=1):
            threading.Thread(target=in_context(work)).start()
    """
    captured = copy_context()

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return captured.copy().run(fn, *args, **kwargs)

    return run


class ContextExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` whose tasks run in a copy of the context that submitted them."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        return super().submit(functools.partial(copy_context().run, fn, *args, **kwargs))


def context_executor(max_workers: int | None = None, **kwargs: Any) -> ContextExecutor:
    """A thread pool that carries the submitter's budgets (and tags) into its workers.

    ``submit`` and ``map`` run each task in a copy of the context they were
    called from::

        with budget(max_cost_usd=1), context_executor(max_workers=8) as pool:
            results = list(pool.map(summarize, documents))

    Other keywords go to ``ThreadPoolExecutor``.
    """
    return ContextExecutor(max_workers=max_workers, **kwargs)
