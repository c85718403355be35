"""``build_record``'s straight line for the usual call equals its general path, field for field.

``build_record`` takes a short path for a 2xx answer read to its end with the
provider's own usage, not replayed; every other call takes ``_build_general``,
which applies every rule. Both are given the same exchanges here (random
status, usage, models, tiers, errors, ends) and must build equal records.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any, NoReturn

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenbudget import CallRecord, Usage
from tokenbudget._core import _record
from tokenbudget._core._record import _build_general, build_record

from .fakes import BILLED_MODEL, JSON_HEADERS, REQUEST_MODEL, FakeLibrary, json_body, make_exchange

_counts = st.integers(min_value=0, max_value=10**7)

usages = st.builds(
    Usage,
    input_tokens=_counts,
    output_tokens=_counts,
    cached_input_tokens=_counts,
    reasoning_tokens=_counts,
    extra=st.dictionaries(st.sampled_from(["web_search_requests", "requests"]), _counts),
    estimated=st.booleans(),
    reported_cost_usd=st.none() | st.decimals(min_value=0, max_value=100, places=6),
    estimate_reason=st.none() | st.sampled_from(["invalid usage: x=-1", "counted"]),
)

calls = st.fixed_dictionaries(
    {
        "status": st.sampled_from([200, 201, 299, 304, 399, 400, 429, 500]),
        "usage": st.none() | usages,
        "model": st.sampled_from([None, BILLED_MODEL, REQUEST_MODEL, "unpriced-model"]),
        "tier": st.sampled_from([None, "default", "flex", "priority"]),
        "request_tier": st.sampled_from([None, "flex"]),
        "batch": st.booleans(),
        "billable": st.booleans(),
        "complete": st.booleans(),
        "stream": st.booleans(),
        "broken": st.booleans(),
        "cached": st.booleans(),
        "provider_error": st.sampled_from([None, "", "overloaded"]),
        "error": st.sampled_from([None, RuntimeError("boom"), GeneratorExit()]),
        "tags": st.sampled_from([{}, {"team": "core"}]),
        "raw_usage": st.sampled_from([None, {"in": 1}]),
        "response_id": st.none() | st.text(max_size=5),
        "first_chunk": st.booleans(),
    }
)


def _exchange(call: dict[str, Any]) -> Any:
    exchange = make_exchange(FakeLibrary(), billable=call["billable"], tags=call["tags"])
    endpoint = exchange.endpoint
    endpoint.stream = call["stream"]
    endpoint.service_tier = call["request_tier"]
    endpoint.batch = call["batch"]
    exchange.start_response(call["status"], JSON_HEADERS)
    exchange.feed(json_body())
    exchange.end_of_body()
    observation = exchange.observe()  # read now: the record paths are given it as it is
    observation.usage = call["usage"]
    observation.model = call["model"]
    observation.service_tier = call["tier"]
    observation.complete = call["complete"]
    observation.error = call["provider_error"]
    observation.raw_usage = call["raw_usage"]
    observation.response_id = call["response_id"]
    exchange._broken = call["broken"]
    exchange.cached = call["cached"]
    if call["first_chunk"]:
        exchange.first_chunk_at = exchange.started
    return exchange


def _timeless(record: CallRecord) -> CallRecord:
    """The record without its clock readings (the two paths read the clock apart)."""
    assert record.latency_ms is not None and record.latency_ms >= 0
    return dataclasses.replace(record, latency_ms=None)


@settings(max_examples=400, deadline=None)
@given(calls)
def test_the_usual_calls_path_builds_the_general_paths_record(call: dict[str, Any]) -> None:
    exchange = _exchange(call)
    error = call["error"]
    fast = build_record(exchange, error)
    general = _build_general(exchange, error, exchange.observe())
    assert type(fast) is CallRecord
    assert _timeless(fast) == _timeless(general)
    assert repr(_timeless(fast)) == repr(_timeless(general))
    assert str(fast.cost_usd) == str(general.cost_usd)
    assert (fast.first_chunk_ms is None) == (not call["first_chunk"])


def test_the_usual_call_takes_the_straight_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def general(*args: object) -> NoReturn:
        raise AssertionError("the usual call took the general path")

    monkeypatch.setattr(_record, "_build_general", general)
    library = FakeLibrary()
    exchange = make_exchange(library)
    exchange.start_response(200, JSON_HEADERS)
    exchange.feed(json_body())
    exchange.end_of_body()
    exchange.observe().complete = True  # a JSON answer is whole once read
    record = _record.build_record(exchange, None)
    assert len(library.priced) == 1
    assert record.cost_usd == Decimal("0.25") and record.succeeded and not record.estimated
    assert record.price_version == "prices-test-1"


def test_a_cache_hit_takes_the_straight_line_free_and_saving_its_price(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def general(*args: object) -> NoReturn:
        raise AssertionError("the cache hit took the general path")

    monkeypatch.setattr(_record, "_build_general", general)
    library = FakeLibrary()
    exchange = make_exchange(library)
    exchange.cached = True
    exchange.start_response(200, JSON_HEADERS)
    exchange.feed(json_body())
    exchange.end_of_body()
    exchange.observe().complete = True
    record = _record.build_record(exchange, None)
    assert record.cached and record.cost_usd == 0 and record.saved_cost_usd == Decimal("0.25")
    assert str(record.cost_usd) == "0" and record.succeeded
