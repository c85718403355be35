"""Turning a finished exchange into its :class:`~tokenbudget.CallRecord`.

The rules (DESIGN.md's contracts): an error answer, a free endpoint or a call
that never got an answer costs nothing; usage the provider did not report, or
reported for a stream cut short, is counted locally and marked estimated; the
billed model is the response's, else the request's; a cache hit costs nothing
and records what it saved.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING

from .._data import CallRecord, Usage, make_record, make_usage
from ._endpoint import Observation

if TYPE_CHECKING:
    from ._exchange import Exchange

__all__ = ["build_record", "describe", "fallback_record"]

_ZERO = Decimal(0)


def build_record(exchange: Exchange, error: BaseException | None) -> CallRecord:
    """The record of ``exchange``, which ended with ``error`` (``None``: it ended normally)."""
    endpoint = exchange.endpoint
    status = exchange.status_code
    observation = exchange.observe()
    if error is not None and not isinstance(error, GeneratorExit):
        error_text: str | None = describe(error)
    elif observation.error:  # the provider said what went wrong (an SSE error event)
        error_text = observation.error
    elif exchange.abandoned(observation):
        error_text = "abandoned"
    else:
        error_text = None

    if status is None or status >= 400 or not endpoint.billable:
        if status is not None and status >= 400:
            error_text = error_text or f"HTTP {status}"
        return _make(exchange, make_usage(), _ZERO, observation, error_text)

    incomplete = endpoint.stream and not observation.complete
    usage = observation.usage
    if usage is None or incomplete or exchange._broken:
        usage = endpoint.handler.estimate_usage(endpoint, exchange.request, observation)
    model = observation.model or endpoint.request_model
    tier = observation.service_tier or endpoint.service_tier
    cost = exchange.ports.price(
        endpoint.provider, model, usage, tier, endpoint.batch, exchange.timestamp
    )
    if exchange.cached:
        return _make(exchange, usage, _ZERO, observation, error_text, saved=cost)
    return _make(exchange, usage, cost, observation, error_text)


def fallback_record(exchange: Exchange, error: BaseException | None) -> CallRecord:
    """The record of a call whose own record could not be built: what is known, estimated."""
    text = describe(error) if error is not None else None
    return _make(exchange, Usage(estimated=True), None, Observation(), text)


def describe(error: BaseException) -> str:
    """How a failed call's error is recorded: its type and message."""
    name = type(error).__name__
    if name == "CancelledError":
        return "cancelled"
    text = str(error)
    return f"{name}: {text}" if text else name


def _make(
    exchange: Exchange,
    usage: Usage,
    cost: Decimal | None,
    observation: Observation,
    error: str | None,
    saved: Decimal | None = None,
) -> CallRecord:
    endpoint = exchange.endpoint
    return make_record(
        exchange.timestamp,
        endpoint.provider,
        observation.model or endpoint.request_model,
        endpoint.kind,
        usage,
        cost,
        request_model=endpoint.request_model,
        status_code=exchange.status_code,
        latency_ms=(time.perf_counter() - exchange.started) * 1000.0,
        request_id=exchange.request_id,
        response_id=observation.response_id,
        stream=endpoint.stream,
        cached=exchange.cached,
        saved_cost_usd=saved,
        service_tier=observation.service_tier or endpoint.service_tier,
        error=error,
        tags=exchange.tags,
        raw_usage=observation.raw_usage,
        price_version=exchange.ports.price_version(),
    )
