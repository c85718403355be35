"""``budget_refusal(exc)``: the budget refusal inside whatever exception reached the caller.

tokenbudget raises its refusals where every supported SDK hands them over as
they are; frameworks above the SDK may still re-wrap every exception in their
own (pydantic-ai's ``ModelAPIError``, litellm's ``APIConnectionError`` /
``InternalServerError``, instructor's ``InstructorRetryException``, langchain's
``ModelError``), as may an old SDK for a refusal decided when the request was
already being sent. They all keep the original somewhere; this walks the usual
places, breadth first and each exception once:

- ``__cause__`` (``raise ... from refusal``: pydantic-ai, instructor,
  langchain, the SDKs' ``APIConnectionError``) and ``__context__``;
- ``exceptions`` (``BaseExceptionGroup``, anyio and trio task groups,
  pydantic-ai's ``FallbackExceptionGroup``);
- ``original_exception``, ``original_error``, ``last_exception``
  (litellm keeps the provider SDK's error in ``original_exception``);
- ``failed_attempts``: a list of attempts, each an exception or an object
  with an ``exception`` (instructor's ``FailedAttempt``);
- ``last_attempt`` with a finished ``exception()`` (tenacity's ``RetryError``).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .._data import TokenBudgetError

__all__ = ["budget_refusal"]

#: Attributes frameworks keep the exception they wrapped in.
_HELD = ("original_exception", "original_error", "last_exception")
#: Attributes holding several: exceptions, or attempts with an ``exception``.
_MANY = ("exceptions", "failed_attempts")
#: How many exceptions are looked at, at most: a guard against odd object graphs.
_LIMIT = 1000


def budget_refusal(exc: BaseException | None) -> TokenBudgetError | None:
    """The budget refusal ``exc`` is, or wraps; ``None`` when it holds none.

    Use it where a framework (or an old SDK) may have wrapped the refusal in
    an exception of its own::

        try:
            agent.run_sync("Summarise the report")
        except Exception as exc:
            refusal = tokenbudget.budget_refusal(exc)
            if refusal is None:
                raise
            print(f"not sent: {refusal} ({refusal.budget_name}, {refusal.reason})")

    The search follows ``__cause__`` and ``__context__``, exception groups, and
    the attributes frameworks keep the original in (see this module's
    docstring); it is safe on cycles and returns the first refusal found,
    nearest first.
    """
    if exc is None:
        return None
    queue: deque[BaseException] = deque([exc])
    seen: set[int] = set()
    while queue and len(seen) < _LIMIT:
        current = queue.popleft()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, TokenBudgetError):
            return current
        queue.extend(_inside(current))
    return None


def _inside(exc: BaseException) -> list[BaseException]:
    """The exceptions ``exc`` holds, nearest first."""
    found: list[Any] = [exc.__cause__, exc.__context__]
    found.extend(_attribute(exc, name) for name in _HELD)
    for name in _MANY:
        items = _attribute(exc, name)
        if isinstance(items, (list, tuple)):
            found.extend(
                item if isinstance(item, BaseException) else _attribute(item, "exception")
                for item in items
            )
    found.append(_finished(_attribute(exc, "last_attempt")))
    return [item for item in found if isinstance(item, BaseException)]


def _attribute(obj: object, name: str, default: object = None) -> Any:
    """``obj.name``, or ``default`` when reading it fails in any way (properties may raise)."""
    try:
        return getattr(obj, name, default)
    except Exception:
        return default


def _finished(attempt: object) -> object:
    """The exception of a finished future-like attempt (tenacity), never waiting for one."""
    done = _attribute(attempt, "done")
    if not callable(done):
        return None
    try:
        return attempt.exception(timeout=0) if done() else None  # type: ignore[attr-defined]
    except Exception:
        return None
