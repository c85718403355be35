"""Turning a finished exchange into its :class:`~tokenbudget.CallRecord`.

The rules (DESIGN.md's contracts): an error answer, a free endpoint or a call
that never got an answer costs nothing; usage the provider did not report, or
reported for a stream cut short, is counted locally and marked estimated; the
billed model is the response's, else the request's; a cache hit costs nothing
and records what it saved. An estimated usage says why (``estimate_reason``).

Usage a provider reported with figures its validation boundary dropped
(``tokenbudget.providers.UsageFigures``) arrives estimated, with the reason
:data:`INVALID_USAGE`: the dropped figures are counted locally, as for a call
that reported none, and a warning is logged once per provider and field.
Every error text is scrubbed of secrets before it is kept (``_scrub``).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import TYPE_CHECKING

from .._data import CallRecord, Usage, make_record, make_usage
from ._endpoint import Observation
from ._log import warn_once
from ._scrub import scrub_secrets

if TYPE_CHECKING:
    from ._exchange import Exchange

__all__ = [
    "CUT_SHORT",
    "INVALID_USAGE",
    "NOT_BUILT",
    "NOT_READ",
    "NOT_REPORTED",
    "REASONING_NOT_REPORTED",
    "build_record",
    "describe",
    "fallback_record",
]

_ZERO = Decimal(0)


def build_record(exchange: Exchange, error: BaseException | None) -> CallRecord:
    """The record of ``exchange``, which ended with ``error`` (``None``: it ended normally)."""
    observation = exchange.observe()
    usage = observation.usage
    status = exchange.status_code
    endpoint = exchange.endpoint
    # The usual call, in a straight line: a 2xx answer of a billable endpoint, read to
    # its end marker, with usage the provider reported (sent, or replayed by the cache:
    # then it costs nothing and saves its price). Any other call takes _build_general,
    # which applies every rule of the module docstring.
    if (
        error is None
        and usage is not None
        and observation.complete
        and status is not None
        and status < 400
        and endpoint.billable
        and not (exchange._broken or usage.estimated or observation.error)
    ):
        model = observation.model or endpoint.request_model
        tier = observation.service_tier or endpoint.service_tier
        provider = endpoint.provider
        timestamp = exchange.timestamp
        ports = exchange.ports
        cost = ports.price(provider, model, usage, tier, endpoint.batch, timestamp)
        cached = exchange.cached
        saved = None
        if cached:  # a hit: free, and what it would have cost is saved
            cost, saved = _ZERO, cost
        started = exchange.started
        first = exchange.first_chunk_at
        # Positional, in CallRecord's field order (a keyword call costs several times more).
        return make_record(
            timestamp,
            provider,
            model,
            endpoint.kind,
            usage,
            cost,
            endpoint.request_model,
            status,
            (time.perf_counter() - started) * 1000.0,  # latency_ms
            exchange.request_id,
            observation.response_id,
            endpoint.stream,
            cached,
            saved,  # saved_cost_usd
            tier,
            None,  # error
            exchange.tags,
            observation.raw_usage,
            ports.price_version(),
            endpoint.via,
            None if first is None else (first - started) * 1000.0,  # first_chunk_ms
        )
    return _build_general(exchange, error, observation)


def _build_general(
    exchange: Exchange, error: BaseException | None, observation: Observation
) -> CallRecord:
    """:func:`build_record` of any call, the usual one included."""
    endpoint = exchange.endpoint
    status = exchange.status_code
    if error is not None and not isinstance(error, GeneratorExit):
        error_text: str | None = describe(error)
    elif observation.error:  # the provider said what went wrong (an SSE error event)
        error_text = observation.error
    elif not (exchange._ended or observation.complete) and exchange.abandoned(observation):
        error_text = "abandoned"
    else:
        error_text = None

    if status is None or status >= 400 or not endpoint.billable:
        if status is not None and status >= 400:
            error_text = error_text or f"HTTP {status}"
        return _make(exchange, make_usage(), _ZERO, observation, error_text)

    usage = observation.usage
    if usage is not None and observation.complete and not exchange._broken:
        reason = None
    else:
        reason = _why_estimated(exchange, observation)
    if usage is not None and usage.estimated:  # figures dropped at the provider's boundary
        _warn_invalid(endpoint.provider, usage.estimate_reason)
        reason = reason or usage.estimate_reason
    if usage is None or reason is not None:
        usage = endpoint.handler.estimate_usage(endpoint, exchange.request, observation)
        if usage.estimate_reason is None:
            usage = usage.with_estimated(reason=reason or NOT_REPORTED)
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
    usage = Usage(estimated=True, estimate_reason=NOT_BUILT)
    return _make(exchange, usage, None, Observation(), text)


#: Why a record's usage is estimated, as ``Usage.estimate_reason`` says it.
NOT_READ = "tokenbudget could not read the answer (the log says why)"
CUT_SHORT = "the stream ended before the provider's end marker"
NOT_REPORTED = "the answer reported no usage"
NOT_BUILT = "tokenbudget could not build the record (the log says why)"
#: A reasoning model's answer reported no usage: the output counted from its visible
#: text misses every reasoning token, so the recorded cost is too low.
REASONING_NOT_REPORTED = "reasoning tokens not reported: the output counts the visible text only"
#: The start of the reason of usage with figures out of range or of the wrong type,
#: followed by ``": "`` and each dropped ``field=value``, ``"; "`` apart.
INVALID_USAGE = "invalid usage"

_FIELD = re.compile(r"(?:^|; )([\w.\[\]'-]+)=")


def _warn_invalid(provider: str, reason: str | None) -> None:
    """Log once per provider and field that a provider sent a figure that was dropped."""
    if not reason or not reason.startswith(INVALID_USAGE):
        return
    details = reason[len(INVALID_USAGE) + 2 :]
    for field in _FIELD.findall(details):
        warn_once(
            f"invalid-usage:{provider}:{field}",
            "tokenbudget: %s reported an invalid %s (%s); the figure is counted locally "
            "and the call recorded as estimated",
            provider,
            field,
            details,
        )


def _why_estimated(exchange: Exchange, observation: Observation) -> str | None:
    """Why the provider's own usage cannot be recorded as it is, or ``None``."""
    if exchange._broken:
        return NOT_READ
    if exchange.endpoint.stream and not observation.complete:
        return CUT_SHORT
    if observation.usage is None:
        return NOT_REPORTED
    return None


def describe(error: BaseException) -> str:
    """How a failed call's error is recorded: its type and message, scrubbed of secrets."""
    name = type(error).__name__
    if name == "CancelledError":
        return "cancelled"
    text = str(error)
    return f"{name}: {scrub_secrets(text)}" if text else name


def _make(
    exchange: Exchange,
    usage: Usage,
    cost: Decimal | None,
    observation: Observation,
    error: str | None,
    saved: Decimal | None = None,
) -> CallRecord:
    endpoint = exchange.endpoint
    first = exchange.first_chunk_at
    started = exchange.started
    return make_record(  # positional, in CallRecord's field order
        exchange.timestamp,
        endpoint.provider,
        observation.model or endpoint.request_model,
        endpoint.kind,
        usage,
        cost,
        endpoint.request_model,
        exchange.status_code,
        (time.perf_counter() - started) * 1000.0,  # latency_ms
        exchange.request_id,
        observation.response_id,
        endpoint.stream,
        exchange.cached,
        saved,
        observation.service_tier or endpoint.service_tier,
        scrub_secrets(error) if error else error,
        exchange.tags,
        observation.raw_usage,
        exchange.ports.price_version(),
        endpoint.via,
        None if first is None else (first - started) * 1000.0,  # first_chunk_ms
    )
