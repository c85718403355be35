"""Running totals of many calls, and their immutable snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ._plain import plain_decimal
from ._records import CallRecord

__all__ = ["RunningTotals", "UsageSummary"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """Totals over a set of calls: what ``tracker.usage`` returns.

    ``cost_usd`` is exact (``Decimal``, without trailing zeros) and counts priced calls only;
    ``total_cost_usd`` is the same figure as a float, for display.
    ``unpriced_calls`` says how many calls had no known price and are missing
    from the cost.
    """

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Decimal = _ZERO
    unpriced_calls: int = 0
    cached_calls: int = 0
    saved_cost_usd: Decimal = _ZERO
    failed_calls: int = 0
    estimated_calls: int = 0

    def __post_init__(self) -> None:
        # Summed in many places (ledger, stores, exports): a sum of plain costs can
        # end in zeros again (0.15 + 0.05), so every summary is made plain here.
        object.__setattr__(self, "cost_usd", plain_decimal(self.cost_usd))
        object.__setattr__(self, "saved_cost_usd", plain_decimal(self.saved_cost_usd))

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    @property
    def total_cost_usd(self) -> float:
        """The cost as a float, for display; use ``cost_usd`` for arithmetic."""
        return float(self.cost_usd)

    def __repr__(self) -> str:
        parts = [
            f"total_tokens={self.total_tokens}",
            f"total_cost_usd={self.cost_usd.normalize():f}",
            f"calls={self.calls}",
        ]
        for name in ("unpriced_calls", "cached_calls", "failed_calls", "estimated_calls"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name}={value}")
        return f"Usage({', '.join(parts)})"


class RunningTotals:
    """Mutable totals for one aggregation key; O(1) memory whatever the call count.

    Not thread-safe by itself: the ledger holds its lock while adding.
    """

    __slots__ = (
        "cache_write_tokens",
        "cached_calls",
        "cached_input_tokens",
        "calls",
        "cost_usd",
        "estimated_calls",
        "failed_calls",
        "input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "saved_cost_usd",
        "unpriced_calls",
    )

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Set every total back to zero."""
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cached_input_tokens = 0
        self.cache_write_tokens = 0
        self.reasoning_tokens = 0
        self.cost_usd = _ZERO
        self.unpriced_calls = 0
        self.cached_calls = 0
        self.saved_cost_usd = _ZERO
        self.failed_calls = 0
        self.estimated_calls = 0

    def add(self, record: CallRecord) -> None:
        """Count one call."""
        usage = record.usage
        self.calls += 1
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cached_input_tokens += usage.cached_input_tokens
        self.cache_write_tokens += usage.cache_write_tokens
        self.reasoning_tokens += usage.reasoning_tokens
        if record.cost_usd is None:
            self.unpriced_calls += 1
        else:
            self.cost_usd += record.cost_usd
        if record.cached:
            self.cached_calls += 1
            if record.saved_cost_usd is not None:
                self.saved_cost_usd += record.saved_cost_usd
        # CallRecord.succeeded, inlined: every call passes here.
        status = record.status_code
        if record.error is not None or (status is not None and status >= 400):
            self.failed_calls += 1
        if usage.estimated:
            self.estimated_calls += 1

    def merge(self, other: RunningTotals) -> None:
        """Add every total of ``other`` to this one."""
        # Spelled out: a summary read adds each changed cell to several views.
        self.calls += other.calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cached_input_tokens += other.cached_input_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.cost_usd += other.cost_usd
        self.unpriced_calls += other.unpriced_calls
        self.cached_calls += other.cached_calls
        self.saved_cost_usd += other.saved_cost_usd
        self.failed_calls += other.failed_calls
        self.estimated_calls += other.estimated_calls

    def snapshot(self) -> UsageSummary:
        """An immutable copy of the totals."""
        return UsageSummary(**{name: getattr(self, name) for name in self.__slots__})
