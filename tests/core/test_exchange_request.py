"""The body an exchange sends: the caller's, the provider's (usage asked for), or clamped."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tokenbudget._core import Endpoint, RequestView

from .fakes import REQUEST_MODEL, FakeHandler, make_exchange

PREPARED = b'{"model":"fake-small","stream":true,"usage":"please"}'


def test_a_plain_call_sends_its_own_body_without_asking_the_provider() -> None:
    handler = FakeHandler(prepared=PREPARED)
    exchange = make_exchange(handler=handler)

    assert exchange.request_body() is None
    assert handler.prepare_calls == 0


def test_a_stream_sends_the_providers_prepared_body() -> None:
    handler = FakeHandler(prepared=PREPARED)
    exchange = make_exchange(handler=handler, stream=True)

    assert exchange.request_body() == PREPARED
    assert handler.prepare_calls == 1
    assert exchange.endpoint.usage_injected


def test_a_stream_sends_its_own_body_when_the_provider_changes_nothing() -> None:
    handler = FakeHandler(prepared=None)
    exchange = make_exchange(handler=handler, stream=True)

    assert exchange.request_body() is None
    assert handler.prepare_calls == 1


def test_a_stream_is_not_prepared_when_injection_is_off() -> None:
    handler = FakeHandler(prepared=PREPARED)
    exchange = make_exchange(handler=handler, stream=True, inject_usage=False)

    assert exchange.request_body() is None
    assert handler.prepare_calls == 0 and not exchange.endpoint.usage_injected


@pytest.mark.parametrize(
    ("stream", "inject_usage", "expected"),
    [
        (False, True, {"model": REQUEST_MODEL, "stream": False, "max_tokens": 5, "n": 1}),
        (True, False, {"model": REQUEST_MODEL, "stream": True, "max_tokens": 5, "n": 1}),
        (True, True, {**json.loads(PREPARED), "max_tokens": 5, "n": 1}),
    ],
)
def test_body_overrides_are_merged_into_the_body_sent(
    stream: bool, inject_usage: bool, expected: dict[str, object]
) -> None:
    exchange = make_exchange(
        handler=FakeHandler(prepared=PREPARED),
        stream=stream,
        body={"max_tokens": 100},
        inject_usage=inject_usage,
    )
    exchange.body_overrides.update(max_tokens=5, n=1)

    body = exchange.request_body()

    assert body is not None
    assert json.loads(body) == expected


def test_a_prepare_that_raises_sends_the_callers_body(
    tb_warnings: Callable[[], list[str]],
) -> None:
    class BrokenHandler(FakeHandler):
        def prepare(self, endpoint: Endpoint, request: RequestView) -> bytes | None:
            raise TypeError("bug")

    exchange = make_exchange(handler=BrokenHandler(), stream=True)

    assert exchange.request_body() is None
    assert len(tb_warnings()) == 1


def test_overrides_on_a_body_that_is_not_json_send_it_unchanged(
    tb_warnings: Callable[[], list[str]],
) -> None:
    exchange = make_exchange(raw_body=b"not json")
    exchange.body_overrides["max_tokens"] = 5

    assert exchange.request_body() is None
    assert len(tb_warnings()) == 1


@pytest.mark.parametrize("body", [b"[" * 4095, b"[" * 100_000 + b"]" * 100_000])
def test_a_body_nested_past_what_json_can_read_is_not_json(body: bytes) -> None:
    # json.loads raises RecursionError there, valid JSON or not: the request is read as
    # not JSON (no provider matches it; a cache keys its bytes), never an error of ours.
    view = RequestView("POST", "api.openai.com", "/v1/chat/completions", body=body)
    assert view.json is None
    assert view.body == body
