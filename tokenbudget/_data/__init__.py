"""The data every layer shares: a call's usage, its record, totals, and the budget errors.

Nothing here does I/O or knows about HTTP, providers or prices: these are the
values the other packages pass to each other (see the README's "How it works").
"""

from __future__ import annotations

from ._counts import (
    COUNT_FIELDS,
    MAX_COST_USD,
    MAX_TOKENS,
    check_count,
    check_usage,
    is_cost,
    is_count,
    short_repr,
)
from ._errors import BudgetExceeded, BudgetWarning, TokenBudgetError, TokenLimitReached
from ._frozen import SharedDefault, frozen_builder, reduce_frozen
from ._plain import plain_decimal
from ._records import CallRecord, make_record
from ._summary import RunningTotals, UsageSummary
from ._usage import Usage, make_usage, units_mapping

__all__ = [
    "COUNT_FIELDS",
    "MAX_COST_USD",
    "MAX_TOKENS",
    "BudgetExceeded",
    "BudgetWarning",
    "CallRecord",
    "RunningTotals",
    "SharedDefault",
    "TokenBudgetError",
    "TokenLimitReached",
    "Usage",
    "UsageSummary",
    "check_count",
    "check_usage",
    "frozen_builder",
    "is_cost",
    "is_count",
    "make_record",
    "make_usage",
    "plain_decimal",
    "reduce_frozen",
    "short_repr",
    "units_mapping",
]
