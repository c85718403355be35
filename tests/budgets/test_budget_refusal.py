"""``budget_refusal(exc)`` finds the refusal wherever a wrapper keeps it, and nothing else."""

from __future__ import annotations

import builtins
from concurrent.futures import Future
from typing import Any, NamedTuple

import pytest

from tokenbudget import BudgetExceeded, TokenLimitReached, budget_refusal


def refusal() -> BudgetExceeded:
    return BudgetExceeded("no room", budget_name="b", reason="preflight")


def wrapped(inner: BaseException, outer: BaseException) -> BaseException:
    """``outer`` raised ``from inner``, as SDKs and frameworks do."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as caught:
        return caught


class FailedAttempt(NamedTuple):
    """instructor's record of one attempt."""

    attempt_number: int
    exception: Exception
    completion: Any = None


class RetryException(Exception):
    """instructor's ``InstructorRetryException``: the attempts, no ``from``."""

    def __init__(self, failed_attempts: list[FailedAttempt]) -> None:
        super().__init__("retries exhausted")
        self.failed_attempts = failed_attempts


class LiteLLMError(Exception):
    """litellm keeps the provider SDK's exception in ``original_exception``."""

    def __init__(self, original_exception: Exception) -> None:
        super().__init__("litellm.APIConnectionError")
        self.original_exception = original_exception


class RetryError(Exception):
    """tenacity's: the last attempt is a finished future."""

    def __init__(self, last_attempt: Future[Any]) -> None:
        super().__init__("RetryError")
        self.last_attempt = last_attempt


class Awkward(Exception):
    """Properties that raise must not break the search."""

    @property
    def original_exception(self) -> Exception:
        raise RuntimeError("computed lazily, and broken")


def test_the_refusal_itself_and_none_for_anything_else() -> None:
    error = refusal()
    assert budget_refusal(error) is error
    assert budget_refusal(None) is None
    assert budget_refusal(ValueError("no")) is None
    assert budget_refusal(wrapped(ValueError("a"), KeyError("b"))) is None


def test_through_cause_and_context_nearest_first() -> None:
    near, far = refusal(), TokenLimitReached("far")
    chain = wrapped(wrapped(far, near), ConnectionError("Connection error."))
    assert budget_refusal(chain) is near
    try:
        try:
            raise far
        except TokenLimitReached:
            raise RuntimeError("while handling it") from None
    except RuntimeError as suppressed:
        assert budget_refusal(suppressed) is far, "__context__ is kept even when suppressed"


def test_cycles_end() -> None:
    first, second = ValueError("1"), ValueError("2")
    first.__context__, second.__context__ = second, first
    assert budget_refusal(first) is None
    first.__cause__ = refusal()
    assert budget_refusal(second) is first.__cause__


def test_inside_exception_groups() -> None:
    groups: Any = getattr(builtins, "BaseExceptionGroup", None)  # Python 3.11+
    if groups is None:
        pytest.skip("no exception groups before Python 3.11")
    error = refusal()
    group = groups("tasks", [ValueError("x"), groups("inner", [error])])
    assert budget_refusal(group) is error


@pytest.mark.parametrize(
    "make",
    [
        lambda e: RetryException([FailedAttempt(1, ValueError("bad json")), FailedAttempt(2, e)]),
        lambda e: RetryException([ValueError("x"), e]),  # type: ignore[list-item]
        lambda e: LiteLLMError(wrapped(e, ConnectionError("Connection error."))),  # type: ignore[arg-type]
        lambda e: _retry_error(e),
    ],
    ids=["instructor", "attempts-as-exceptions", "litellm", "tenacity"],
)
def test_inside_what_frameworks_keep(make: Any) -> None:
    error = refusal()
    assert budget_refusal(make(error)) is error


def _retry_error(error: Exception) -> RetryError:
    attempt: Future[Any] = Future()
    attempt.set_exception(error)
    return RetryError(attempt)


def test_unfinished_attempts_and_broken_attributes_are_skipped() -> None:
    assert budget_refusal(RetryError(Future())) is None, "never waits"
    error = refusal()
    awkward = Awkward("odd")
    awkward.__cause__ = error
    assert budget_refusal(awkward) is error
