"""``RedisBackend`` against a real server: the same accounting as in memory, shared, atomic."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import redis

from tokenbudget.budgets import Amount, InMemoryBackend, Limits
from tokenbudget.redis import RedisBackend

from ..support import record

LIMITS = Limits(cost_usd=Decimal("1.00"), tokens=1000)
WINDOW = "2026-01-01"


def test_reserve_settle_read_match_the_in_memory_backend(redis_url: str) -> None:
    shared, local = RedisBackend(url=redis_url, key="same"), InMemoryBackend()
    steps = [
        ("reserve", Amount(Decimal("0.60"), 10), LIMITS),
        ("reserve", Amount(Decimal("0.50"), 10), LIMITS),  # does not fit
        ("reserve", Amount(Decimal("0.000000000001"), 1), LIMITS),  # a pico-dollar
        ("settle", Amount(Decimal("0.60"), 10), record(cost="0.25", output_tokens=0)),
        ("reserve", Amount(Decimal("0.75"), 10), LIMITS),  # one pico-dollar too many
        ("settle", Amount(Decimal("0.000000000001"), 1), None),  # release only
        ("reserve", Amount(Decimal("0.75"), 10), LIMITS),  # fits exactly: 0.25 + 0.75
        ("reserve", Amount(Decimal("0.01"), 1), None),  # unconditional
        (
            "settle",
            Amount(Decimal("0.75"), 10),
            record(cost=None, input_tokens=70, output_tokens=0),
        ),  # unpriced
        (
            "settle",
            Amount(Decimal("0.01"), 1),
            record(cost="0.8", output_tokens=0, cached=True, saved="0.5"),
        ),
    ]
    for action, amount, extra in steps:
        if action == "reserve":
            assert shared.reserve(WINDOW, amount, extra) == local.reserve(WINDOW, amount, extra)
        else:
            assert shared.settle(WINDOW, amount, extra) == local.settle(WINDOW, amount, extra)
        assert shared.read(WINDOW) == local.read(WINDOW)
    final = shared.read(WINDOW)
    assert final.usage.calls == 3 and final.usage.unpriced_calls == 1
    assert final.spent == Amount(Decimal("1.05"), 270) and final.exceeded(LIMITS)
    assert final.usage.saved_cost_usd == Decimal("0.5") and final.reserved == Amount()


def test_two_processes_see_one_account(redis_url: str) -> None:
    first = RedisBackend(url=redis_url, key="team")
    second = RedisBackend(client=redis.Redis.from_url(redis_url), key="team")
    other = RedisBackend(url=redis_url, key="other-team")
    assert first.reserve(WINDOW, Amount(Decimal("0.9"), 1), LIMITS)[0]
    held, state = second.reserve(WINDOW, Amount(Decimal("0.2"), 1), LIMITS)
    assert not held and state.reserved == Amount(Decimal("0.9"), 1)
    assert other.reserve(WINDOW, Amount(Decimal("0.2"), 1), LIMITS)[0]
    first.settle(WINDOW, Amount(Decimal("0.9"), 1), record(cost="0.1"))
    assert second.read(WINDOW).spent.cost_usd == Decimal("0.1")
    assert second.reserve(WINDOW, Amount(Decimal("0.2"), 1), LIMITS)[0]


def test_concurrent_reservations_never_hold_more_than_the_limit(redis_url: str) -> None:
    backends = [RedisBackend(url=redis_url, key="race") for _ in range(4)]
    barrier = threading.Barrier(32)
    granted: list[bool] = []

    def worker(index: int) -> None:
        barrier.wait()
        held, _ = backends[index % 4].reserve(WINDOW, Amount(Decimal("0.07"), 5), LIMITS)
        granted.append(held)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 14  # 14 x $0.07 = $0.98; a 15th would pass $1
    assert backends[0].read(WINDOW).reserved == Amount(Decimal("0.98"), 70)


def test_a_crashed_holders_reservation_expires(redis_url: str) -> None:
    crashed = RedisBackend(url=redis_url, key="ttl", reservation_ttl=0.3)
    survivor = RedisBackend(url=redis_url, key="ttl")
    assert crashed.reserve(WINDOW, Amount(Decimal("0.9"), 10), LIMITS)[0]
    assert not survivor.reserve(WINDOW, Amount(Decimal("0.5"), 1), LIMITS)[0]
    time.sleep(0.4)
    assert survivor.read(WINDOW).reserved == Amount()  # swept by the read
    assert survivor.reserve(WINDOW, Amount(Decimal("0.5"), 1), LIMITS)[0]
    # the "crashed" call settles after all: its cost counts, its expired hold is not released twice
    crashed.settle(WINDOW, Amount(Decimal("0.9"), 10), record(cost="0.2"))
    state = survivor.read(WINDOW)
    assert state.reserved == Amount(Decimal("0.5"), 1) and state.spent.cost_usd == Decimal("0.2")


def test_a_settlement_counts_once_even_when_sent_twice(redis_url: str) -> None:
    backend = RedisBackend(url=redis_url, key="once")
    assert backend.reserve(WINDOW, Amount(Decimal("0.3"), 3), LIMITS)[0]
    hold = backend._holds[(WINDOW, Amount(Decimal("0.3"), 3))][0]
    from tokenbudget.redis._local import Settlement

    item = Settlement(WINDOW, hold, Amount(Decimal("0.3"), 3), record(cost="0.1"))
    assert backend._account.settle(item)[0] == 1
    assert backend._account.settle(item)[0] == 0  # a retry after a lost reply: skipped
    assert backend.read(WINDOW).usage.calls == 1
    local = Settlement(WINDOW, type(hold)("local-1", ""), Amount(), record(cost="0.1"))
    assert [backend._account.settle(local)[0] for _ in range(2)] == [1, 0]
    assert backend.read(WINDOW).usage.calls == 2


def test_window_keys_expire_after_the_window(redis_url: str) -> None:
    backend = RedisBackend(url=redis_url, key="keys", reservation_ttl=60)
    for window in ("2026-01-01T09+0000", "2026-01-01", "2026-01", ""):
        assert backend.reserve(window, Amount(Decimal("0.1"), 1), LIMITS)[0]
    client = redis.Redis.from_url(redis_url)
    hour, day, month = 3_600_000, 86_400_000, 31 * 86_400_000
    grace = hour + 60_000
    for window, length in (("2026-01-01T09+0000", hour), ("2026-01-01", day), ("2026-01", month)):
        for suffix in ("", ":held"):
            ttl = client.pttl(f"tokenbudget:budget:{{keys}}:{window}{suffix}")
            assert length < ttl <= length + grace
    assert client.pttl("tokenbudget:budget:{keys}:total") == -1  # no window: kept
    backend.clear()
    assert not client.keys("tokenbudget:budget:{keys}:*")


def test_costs_finer_than_a_pico_dollar_are_rounded_up_for_admission_only(redis_url: str) -> None:
    backend = RedisBackend(url=redis_url, key="fine")
    limits = Limits(cost_usd=Decimal("0.000000000003"))  # 3 pico-dollars
    tiny = "0.0000000000001"  # a tenth of a pico-dollar: admission counts a whole one
    for _ in range(3):
        assert backend.reserve(WINDOW, Amount(), limits)[0]
        backend.settle(WINDOW, Amount(), record(cost=tiny))
    state = backend.read(WINDOW)
    assert state.usage.cost_usd == Decimal("0.0000000000003")  # the usage is exact
    assert not backend.reserve(WINDOW, Amount(), limits)[0]  # admission saw 3 pico-dollars


def test_keys_and_arguments_are_checked(redis_url: str) -> None:
    with pytest.raises(ValueError, match="without braces"):
        RedisBackend(url=redis_url, key="a{b}")
    with pytest.raises(ValueError, match="client or a url"):
        RedisBackend()
    with pytest.raises(ValueError, match="'refuse' or 'allow_local'"):
        RedisBackend(url=redis_url, key="k", on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no key"):
        RedisBackend(url=redis_url).read(WINDOW)
    with pytest.raises(TypeError, match=r"redis\.Redis"):
        RedisBackend(client=object(), key="k")
