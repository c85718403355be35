"""The data every layer shares: a call's usage, its record, totals, and the budget errors.

Nothing here does I/O or knows about HTTP, providers or prices: these are the
values the other packages pass to each other (see the README's "How it works").
"""

from __future__ import annotations

from ._errors import BudgetExceeded, BudgetWarning, TokenBudgetError, TokenLimitReached
from ._frozen import SharedDefault, frozen_builder, reduce_frozen
from ._records import CallRecord, make_record
from ._summary import RunningTotals, UsageSummary
from ._usage import Usage, make_usage

__all__ = [
    "BudgetExceeded",
    "BudgetWarning",
    "CallRecord",
    "RunningTotals",
    "SharedDefault",
    "TokenBudgetError",
    "TokenLimitReached",
    "Usage",
    "UsageSummary",
    "frozen_builder",
    "make_record",
    "make_usage",
    "reduce_frozen",
]
