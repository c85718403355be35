"""The cache end to end through the real openai, anthropic and google-genai SDKs.

Each test runs per SDK and httpx family, sync and async, JSON and streamed: a
repeated call never reaches the (fake) server and gives an equal response
object; anything that changes the request reaches it again.
"""

from __future__ import annotations

import pytest

from tokenbudget import BudgetExceeded, TokenTracker, budget
from tokenbudget.cache import CallCache, MemoryBackend
from tokenbudget.testing import FakeLLM, FakeReply

from .helpers import CASES, OTHER_MODELS, make_sdk

pytestmark = pytest.mark.parametrize(("sdk_name", "family"), CASES)


@pytest.fixture(params=[False, True], ids=["json", "stream"])
def stream(request: pytest.FixtureRequest) -> bool:
    value: bool = request.param
    return value


async def test_a_repeated_call_is_answered_from_the_cache(
    sdk_name: str, family: str, mode: str, stream: bool
) -> None:
    tracker = TokenTracker(cache="memory")
    sdk = make_sdk(sdk_name, family, mode, tracker)

    first = await sdk.call(stream=stream)
    second = await sdk.call(stream=stream)

    assert sdk.fake.calls == 1, "the second call never reached the server"
    assert second == first
    if stream:
        assert len(second) > 2, "a streamed call gets its chunks back as a stream"
    miss, hit = tracker.records
    assert (miss.cached, hit.cached) == (False, True)
    assert miss.cost_usd is not None and miss.cost_usd > 0
    assert hit.cost_usd == 0 and hit.saved_cost_usd == miss.cost_usd
    assert hit.usage == miss.usage and hit.stream is stream
    assert hit.response_id == miss.response_id
    stats = tracker.cache_stats
    assert (stats.hits, stats.misses, stats.stores, stats.entries) == (1, 1, 1, 1)
    assert stats.hit_rate == 0.5
    assert stats.saved_cost_usd == miss.cost_usd
    assert stats.saved_tokens == miss.usage.total_tokens


async def test_a_fresh_answer_differs(sdk_name: str, family: str, mode: str) -> None:
    """The fake's ids change per answer: equality above really means replay."""
    sdk = make_sdk(sdk_name, family, mode, TokenTracker())
    assert await sdk.call() != await sdk.call()
    assert sdk.fake.calls == 2


async def test_a_changed_body_model_or_key_misses(
    sdk_name: str, family: str, mode: str, stream: bool
) -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM(reply="Paris.", family=family)
    sdk = make_sdk(sdk_name, family, mode, tracker, fake)

    await sdk.call("Hi", stream=stream)
    await sdk.call("Hello", stream=stream)  # another body
    await sdk.call("Hi", stream=stream, model=OTHER_MODELS[sdk_name])  # another model
    await sdk.call("Hi", stream=not stream)  # streamed vs not
    other_key = make_sdk(sdk_name, family, mode, tracker, fake, api_key="another-SECRET-key")
    await other_key.call("Hi", stream=stream)
    assert fake.calls == 5

    await sdk.call("Hi", stream=stream)
    await other_key.call("Hi", stream=stream)
    assert fake.calls == 5
    assert tracker.cache_stats.hits == 2


async def test_an_abandoned_stream_is_not_stored(sdk_name: str, family: str, mode: str) -> None:
    backend = MemoryBackend()
    tracker = TokenTracker(cache=backend)
    sdk = make_sdk(sdk_name, family, mode, tracker)

    await sdk.abandon()

    assert len(backend) == 0
    assert tracker.records[-1].error == "abandoned"
    await sdk.call(stream=True)
    assert sdk.fake.calls == 2 and len(backend) == 1


@pytest.mark.parametrize("status", [429, 500])
async def test_errors_are_not_stored(sdk_name: str, family: str, mode: str, status: int) -> None:
    tracker = TokenTracker(cache="memory")
    fake = FakeLLM([FakeReply(status=status), "Paris."], family=family)
    sdk = make_sdk(sdk_name, family, mode, tracker, fake)

    with pytest.raises(Exception) as raised:
        await sdk.call()
    assert getattr(raised.value, "status_code", getattr(raised.value, "code", None)) == status
    assert tracker.cache_stats.entries == 0

    answer = await sdk.call()
    assert fake.calls == 2 and tracker.cache_stats.entries == 1
    assert await sdk.call() == answer and fake.calls == 2


async def test_no_cache_and_refresh_cache(sdk_name: str, family: str, mode: str) -> None:
    tracker = TokenTracker(cache="memory")
    sdk = make_sdk(sdk_name, family, mode, tracker)

    first = await sdk.call()
    with tracker.no_cache():
        bypassed = await sdk.call()
    assert sdk.fake.calls == 2 and bypassed != first
    assert await sdk.call() == first  # the bypassed answer was not stored

    with tracker.refresh_cache():
        refreshed = await sdk.call()
    assert sdk.fake.calls == 3 and refreshed != first
    assert await sdk.call() == refreshed  # the refreshed answer replaced the old one
    stats = tracker.cache_stats
    assert (stats.hits, stats.misses, stats.bypassed, stats.refreshed) == (2, 1, 1, 1)


async def test_a_hit_is_allowed_when_budgets_refuse(
    sdk_name: str, family: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Budgets are never consulted for a hit: it costs nothing."""
    tracker = TokenTracker(cache="memory")
    sdk = make_sdk(sdk_name, family, mode, tracker)
    first = await sdk.call(stream=True)
    tracker.add_budget(budget(max_cost_usd=0))  # refuses every call it is asked about
    assert await sdk.call(stream=True) == first
    assert sdk.fake.calls == 1
    with pytest.raises(Exception) as raised:
        await sdk.call("something new", stream=True)
    # anthropic 2.x wraps transport exceptions in APIConnectionError (see DESIGN.md).
    error: BaseException | None = raised.value
    while error is not None and not isinstance(error, BudgetExceeded):
        error = error.__cause__
    assert isinstance(error, BudgetExceeded)
    assert sdk.fake.calls == 1


async def test_ttl_expiry_with_an_injected_clock(sdk_name: str, family: str, mode: str) -> None:
    now = [1_000_000.0]
    cache = CallCache(MemoryBackend(), ttl=60, clock=lambda: now[0])
    sdk = make_sdk(sdk_name, family, mode, TokenTracker(cache=cache))

    first = await sdk.call()
    now[0] += 59.9
    assert await sdk.call() == first and sdk.fake.calls == 1
    now[0] += 0.1
    assert await sdk.call() != first and sdk.fake.calls == 2
