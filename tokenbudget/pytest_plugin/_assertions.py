"""The assertion helpers of the ``tokenbudget`` fixture, with messages that list the calls.

Each raises ``AssertionError`` naming what was expected, what happened and the
calls behind it; ``__tracebackhide__`` keeps pytest's traceback on the test's
own line. Money counts what the calls cost; in replay mode, what they cost
when they were recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from .._data import CallRecord, UsageSummary
from ..budgets import parse_dollars
from ._wording import call_lines, calls_text, usd

__all__ = [
    "CostView",
    "assert_calls",
    "assert_cost_below",
    "assert_no_calls_to",
    "assert_tokens_below",
]


class CostView(Protocol):
    """What the helpers read from the test's tracker."""

    @property
    def cost(self) -> Decimal: ...

    @property
    def usage(self) -> UsageSummary: ...

    @property
    def records(self) -> list[CallRecord]: ...

    @property
    def replaying(self) -> bool: ...

    @property
    def replay_note(self) -> str: ...


def _listing(view: CostView, records: Sequence[CallRecord] | None = None) -> str:
    chosen = view.records if records is None else records
    if not chosen:
        return ""
    return ":\n" + "\n".join(call_lines(chosen, view.replaying))


def assert_cost_below(view: CostView, limit: Decimal | float | str) -> None:
    """The test's calls cost less than ``limit`` dollars (unpriced calls fail it)."""
    __tracebackhide__ = True
    amount = parse_dollars(limit)
    assert amount is not None
    usage, cost = view.usage, view.cost
    if usage.unpriced_calls:
        raise AssertionError(
            f"tokenbudget: cannot tell whether the test's LLM calls cost below {usd(amount)}: "
            f"{calls_text(usage.unpriced_calls)} went to models with no known price. Add their "
            "prices with tokenbudget.register_model(...)" + _listing(view)
        )
    if cost >= amount:
        raise AssertionError(
            f"tokenbudget: expected the test's LLM calls to cost below {usd(amount)}, they cost "
            f"{usd(cost)}{view.replay_note} ({calls_text(usage.calls)})" + _listing(view)
        )


def assert_tokens_below(view: CostView, limit: int) -> None:
    """The test's calls used fewer than ``limit`` tokens (input plus output)."""
    __tracebackhide__ = True
    usage = view.usage
    if usage.total_tokens >= limit:
        raise AssertionError(
            f"tokenbudget: expected the test's LLM calls to use fewer than {limit:,} tokens, they "
            f"used {usage.total_tokens:,} ({usage.input_tokens:,} in + {usage.output_tokens:,} "
            f"out, {calls_text(usage.calls)})" + _listing(view)
        )


def assert_calls(
    view: CostView, expected: int, *, provider: str | None = None, model: str | None = None
) -> None:
    """The test made exactly ``expected`` calls (to ``provider`` and/or ``model``, if given)."""
    __tracebackhide__ = True
    matching = [
        record
        for record in view.records
        if (provider is None or record.provider == provider)
        and (model is None or model in (record.model, record.request_model))
    ]
    found = view.usage.calls if provider is None and model is None else len(matching)
    if found != expected:
        target = " ".join(
            part for part in (f"to {provider}" if provider else "", model and f"of {model}") if part
        )
        what = f"{calls_text(expected)}{' ' + target if target else ''}"
        made = calls_text(found) if found else "none"
        raise AssertionError(f"tokenbudget: expected {what}, the test made {made}" + _listing(view))


def assert_no_calls_to(view: CostView, provider: str) -> None:
    """The test made no call to ``provider`` (``"openai"``, ``"anthropic"``, ``"google"``...)."""
    __tracebackhide__ = True
    made = [record for record in view.records if record.provider == provider]
    if made:
        raise AssertionError(
            f"tokenbudget: expected no LLM calls to {provider}, the test made "
            f"{calls_text(len(made))}" + _listing(view, made)
        )
