"""The metrics of each call, and the budget gauges, on the application's meter provider."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from .._data import CallRecord
from .._version import __version__
from ..budgets import Budget
from ._conventions import (
    COST,
    COST_SAVED,
    DURATION,
    DURATION_BUCKETS,
    TIME_TO_FIRST_CHUNK,
    TOKEN_BUCKETS,
    TOKEN_USAGE,
    call_attributes,
)

__all__ = [
    "BUDGET_LIMIT",
    "BUDGET_SPENT",
    "BUDGET_TOKEN_LIMIT",
    "BUDGET_TOKENS_SPENT",
    "CallMetrics",
]

#: Observable gauges of each watched budget (USD, then tokens).
BUDGET_SPENT = "tokenbudget.budget.spent"
BUDGET_LIMIT = "tokenbudget.budget.limit"
BUDGET_TOKENS_SPENT = "tokenbudget.budget.tokens.spent"
BUDGET_TOKEN_LIMIT = "tokenbudget.budget.tokens.limit"

_ZERO = Decimal(0)


class CallMetrics:
    """The instruments of one instrumentation; :meth:`record` feeds them one call."""

    def __init__(
        self,
        meter_provider: MeterProvider,
        budgets: Callable[[], Sequence[Budget]],
        tags: tuple[str, ...],
        legacy: bool,
    ) -> None:
        meter = meter_provider.get_meter("tokenbudget", __version__)
        self._tags = tags
        self._legacy = legacy
        self._budgets = budgets
        self._tokens = meter.create_histogram(
            TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS),
        )
        self._duration = meter.create_histogram(
            DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self._first_chunk = meter.create_histogram(
            TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streamed answer.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        )
        self._cost = meter.create_counter(
            COST, unit="USD", description="What calls cost, at tokenbudget's prices."
        )
        self._saved = meter.create_counter(
            COST_SAVED, unit="USD", description="What answers from tokenbudget's cache saved."
        )
        meter.create_observable_gauge(
            BUDGET_SPENT,
            [self._spent],
            unit="USD",
            description="What a budget has spent in its current period.",
        )
        meter.create_observable_gauge(
            BUDGET_LIMIT, [self._limit], unit="USD", description="A budget's cost limit."
        )
        meter.create_observable_gauge(
            BUDGET_TOKENS_SPENT,
            [self._tokens_spent],
            unit="{token}",
            description="The tokens a budget has spent in its current period.",
        )
        meter.create_observable_gauge(
            BUDGET_TOKEN_LIMIT,
            [self._token_limit],
            unit="{token}",
            description="A budget's token limit.",
        )

    def record(self, record: CallRecord) -> None:
        """Feed one call to the instruments."""
        attributes = call_attributes(record, self._tags, self._legacy)
        if record.latency_ms is not None:
            self._duration.record(record.latency_ms / 1000.0, attributes)
        if record.first_chunk_ms is not None:
            self._first_chunk.record(record.first_chunk_ms / 1000.0, attributes)
        usage = record.usage
        # A cache hit and an error answer billed no tokens: no token usage (the conventions).
        if not record.cached and record.succeeded and (usage.input_tokens or usage.output_tokens):
            self._tokens.record(usage.input_tokens, {**attributes, "gen_ai.token.type": "input"})
            self._tokens.record(usage.output_tokens, {**attributes, "gen_ai.token.type": "output"})
        if record.cost_usd is not None and record.cost_usd > _ZERO:
            self._cost.add(float(record.cost_usd), attributes)
        if record.saved_cost_usd is not None and record.saved_cost_usd > _ZERO:
            self._saved.add(float(record.saved_cost_usd), attributes)

    # -- budget gauges (run when a reader collects) ----------------------------------

    def _observe(self, read: Callable[[Budget], float | int | None]) -> Iterable[Observation]:
        for index, budget in enumerate(self._budgets()):
            value = read(budget)
            if value is not None:
                name = budget.name or f"budget-{index}"
                yield Observation(value, {"tokenbudget.budget.name": name})

    def _spent(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._observe(
            lambda b: float(b.current_usage.cost_usd) if b.max_cost_usd is not None else None
        )

    def _limit(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._observe(lambda b: None if b.max_cost_usd is None else float(b.max_cost_usd))

    def _tokens_spent(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._observe(
            lambda b: b.current_usage.total_tokens if b.max_tokens is not None else None
        )

    def _token_limit(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._observe(lambda b: b.max_tokens)
