"""The pricing engine: every dimension, with expected costs computed by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pricing_helpers import M, make_book

from tokenbudget import Usage
from tokenbudget.pricing import PriceBook, PriceFile

D = Decimal
UTC = timezone.utc

# (case, provider, model, usage, options, expected dollars from the stated per-1M prices)
CASES: list[tuple[str, str | None, str, dict[str, Any], dict[str, Any], Decimal]] = [
    (
        "plain",
        "acme",
        "acme-pro",
        dict(input_tokens=1000, output_tokens=500),
        {},
        (1000 * D(3) + 500 * D(15)) / M,
    ),
    (
        "dated snapshot",
        "acme",
        "acme-pro-2025-01-01",
        dict(input_tokens=1000, output_tokens=500),
        {},
        (1000 * D(3) + 500 * D(15)) / M,
    ),
    (
        "unknown snapshot falls back to base",
        "acme",
        "acme-pro-2099-12-31",
        dict(input_tokens=1000),
        {},
        1000 * D(3) / M,
    ),
    ("provider prefix", None, "acme/acme-pro", dict(input_tokens=1000), {}, 1000 * D(3) / M),
    ("path prefix", "acme", "models/acme-pro", dict(input_tokens=1000), {}, 1000 * D(3) / M),
    ("-latest alias", "acme", "acme-pro-latest", dict(input_tokens=1000), {}, 1000 * D(3) / M),
    ("case-insensitive", "acme", "ACME-Pro", dict(input_tokens=1000), {}, 1000 * D(3) / M),
    (
        "snapshot known exactly keeps its own price",
        "acme",
        "acme-snap-2024-05-13",
        dict(input_tokens=1000, output_tokens=1000),
        {},
        (1000 * D(5) + 1000 * D(15)) / M,
    ),
    (
        "cached input",
        "acme",
        "acme-pro",
        dict(input_tokens=10_000, cached_input_tokens=4000, output_tokens=100),
        {},
        (6000 * D(3) + 4000 * D("0.3") + 100 * D(15)) / M,
    ),
    (
        "cache write 5m and 1h",
        "acme",
        "acme-pro",
        dict(input_tokens=10_000, cache_write_tokens=3000, cache_write_1h_tokens=1000),
        {},
        (7000 * D(3) + 2000 * D("3.75") + 1000 * D(6)) / M,
    ),
    (
        "cache write 1h only",
        "acme",
        "acme-pro",
        dict(input_tokens=5000, cache_write_tokens=5000, cache_write_1h_tokens=5000),
        {},
        5000 * D(6) / M,
    ),
    (
        "reasoning is part of output, not added again",
        "acme",
        "acme-pro",
        dict(input_tokens=0, output_tokens=500, reasoning_tokens=200),
        {},
        500 * D(15) / M,
    ),
    (
        "tier: exactly at the threshold stays base",
        "acme",
        "acme-long",
        dict(input_tokens=200_000, output_tokens=1000),
        {},
        (200_000 * D("1.25") + 1000 * D(10)) / M,
    ),
    (
        "tier: crossing 200k bills the whole request higher",
        "acme",
        "acme-long",
        dict(input_tokens=200_001, cached_input_tokens=50_000, output_tokens=1000),
        {},
        (150_001 * D("2.5") + 50_000 * D("0.25") + 1000 * D(15)) / M,
    ),
    (
        "batch with explicit prices",
        "acme",
        "acme-pro",
        dict(input_tokens=10_000, cached_input_tokens=2000, output_tokens=1000),
        {"batch": True},
        (8000 * D("1.5") + 2000 * D("0.15") + 1000 * D("7.5")) / M,
    ),
    (
        "batch via the provider multiplier",
        "acme",
        "acme-mini",
        dict(input_tokens=10_000, output_tokens=1000),
        {"batch": True},
        (10_000 * D("0.4") + 1000 * D("1.6")) * D("0.5") / M,
    ),
    (
        "service tier 'batch' (Anthropic) is batch",
        "acme",
        "acme-mini",
        dict(input_tokens=10_000),
        {"service_tier": "batch"},
        10_000 * D("0.2") / M,
    ),
    (
        "flex",
        "acme",
        "acme-pro",
        dict(input_tokens=10_000, cached_input_tokens=2000, output_tokens=1000),
        {"service_tier": "flex"},
        (8000 * D("1.5") + 2000 * D("0.15") + 1000 * D("7.5")) / M,
    ),
    (
        "priority keeps base prices it does not name",
        "acme",
        "acme-pro",
        dict(input_tokens=10_000, cached_input_tokens=2000, output_tokens=1000),
        {"service_tier": "Priority"},
        (8000 * D(6) + 2000 * D("0.3") + 1000 * D(30)) / M,
    ),
    (
        "'default' tier is standard",
        "acme",
        "acme-pro",
        dict(input_tokens=1000),
        {"service_tier": "default"},
        1000 * D(3) / M,
    ),
    (
        "unknown tier is standard",
        "acme",
        "acme-pro",
        dict(input_tokens=1000),
        {"service_tier": "platinum"},
        1000 * D(3) / M,
    ),
    (
        "price before a dated change",
        "acme",
        "acme-dated",
        dict(input_tokens=1000, output_tokens=1000),
        {"at": datetime(2025, 6, 9, 23, 59, tzinfo=UTC)},
        (1000 * D(10) + 1000 * D(40)) / M,
    ),
    (
        "price from the day of the change",
        "acme",
        "acme-dated",
        dict(input_tokens=1000, output_tokens=1000),
        {"at": datetime(2025, 6, 10, tzinfo=UTC)},
        (1000 * D(2) + 1000 * D(8)) / M,
    ),
    (
        "a date is midnight UTC",
        "acme",
        "acme-dated",
        dict(input_tokens=1000),
        {"at": date(2025, 6, 10)},
        1000 * D(2) / M,
    ),
    (
        "aware times are converted to UTC",
        "acme",
        "acme-dated",
        dict(input_tokens=1000),
        {"at": datetime(2025, 6, 10, 1, 0, tzinfo=timezone(timedelta(hours=2)))},
        1000 * D(10) / M,
    ),
    (
        "current price when no time is given",
        "acme",
        "acme-dated",
        dict(input_tokens=1000),
        {},
        1000 * D(2) / M,
    ),
    (
        "peak hours",
        "acme",
        "acme-peak",
        dict(input_tokens=1000, output_tokens=1000),
        {"at": datetime(2026, 11, 29, 2, 30, tzinfo=UTC)},
        (1000 * D("0.3") + 1000 * D("1.2")) / M,
    ),
    (
        "off-peak hours",
        "acme",
        "acme-peak",
        dict(input_tokens=1000, output_tokens=1000),
        {"at": datetime(2026, 11, 29, 4, 0, tzinfo=UTC)},
        (1000 * D("0.15") + 1000 * D("0.6")) / M,
    ),
    (
        "extra billable units",
        "acme",
        "acme-pro",
        dict(input_tokens=1000, extra={"web_search_requests": 3, "unknown_unit": 9}),
        {},
        1000 * D(3) / M + 3 * D("0.01"),
    ),
    (
        "same name, other provider, other price",
        "hostco",
        "acme-pro",
        dict(input_tokens=1000, output_tokens=1000),
        {},
        (1000 * D(1) + 1000 * D(2)) / M,
    ),
    (
        "1e9 tokens: exact, no float drift",
        "acme",
        "acme-pro",
        dict(input_tokens=10**9, cached_input_tokens=3 * 10**8, output_tokens=10**9),
        {},
        D("2100") + D("90") + D("15000"),
    ),
]


@pytest.mark.parametrize(
    ("provider", "model", "usage", "options", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_cost(
    provider: str | None,
    model: str,
    usage: dict[str, Any],
    options: dict[str, Any],
    expected: Decimal,
) -> None:
    cost = make_book().cost(provider, model, Usage(**usage), **options)
    assert isinstance(cost, Decimal)
    assert cost == expected


def test_billion_tokens_prints_exactly() -> None:
    cost = make_book().cost("acme", "acme-pro", Usage(input_tokens=10**9, output_tokens=10**9))
    assert cost == Decimal("18000")
    assert str(cost) == format(cost, "f") == "18000"  # no trailing zeros, no 1.8E+4
    tiny = make_book().cost("acme", "acme-mini", Usage(input_tokens=1))
    assert tiny == Decimal("0.0000004")  # $0.4 per 1M tokens, one token
    assert tiny is not None and format(tiny, "f") == "0.0000004"


def test_reported_cost_wins() -> None:
    usage = Usage(input_tokens=1000, output_tokens=1000, reported_cost_usd=Decimal("0.0421"))
    assert make_book().cost("acme", "acme-pro", usage) == Decimal("0.0421")
    assert make_book().cost("acme", "no-such-model", usage) == Decimal("0.0421")


def test_unknown_and_unpriced_models_cost_none() -> None:
    book = make_book()
    assert book.cost("acme", "no-such-model", Usage(input_tokens=5)) is None
    assert book.cost("acme", "acme-exp", Usage(input_tokens=5)) is None
    found = book.resolve("acme-exp", "acme")
    assert found is not None and found.unpriced == "a free experiment, never sold"
    assert found.input_per_1m is None


def test_lookups_are_per_provider() -> None:
    book = make_book()
    assert book.cost("nobody", "acme-pro", Usage(input_tokens=5)) is None
    # With no provider, the maker comes first.
    found = book.resolve("acme-pro")
    assert found is not None and found.provider == "acme"


def test_resolution_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    book = make_book()
    calls: list[str] = []
    original = PriceBook._lookup

    def counting(self: PriceBook, model: str, provider: str | None) -> Any:
        calls.append(model)
        return original(self, model, provider)

    monkeypatch.setattr(PriceBook, "_lookup", counting)
    for _ in range(100):
        book.cost("acme", "acme-pro-2025-01-01", Usage(input_tokens=1))
        book.cost("acme", "no-such-model", Usage(input_tokens=1))
    assert calls == ["acme-pro-2025-01-01", "no-such-model"]


def test_per_1m_and_per_1k_views() -> None:
    found = make_book().resolve("acme-pro", "acme")
    assert found is not None
    assert found.input_per_1m == Decimal(3)
    assert found.output_per_1m == Decimal(15)
    assert found.cached_input_per_1m == Decimal("0.3")
    assert found.cache_write_per_1m == Decimal("3.75")
    assert found.cache_write_1h_per_1m == Decimal(6)
    assert found.input_per_1k == 0.003
    assert found.output_per_1k == 0.015


def test_defaults_for_missing_cache_prices() -> None:
    # acme-mini has no cache prices: reads and writes cost the plain input price.
    usage = Usage(
        input_tokens=3000,
        cached_input_tokens=1000,
        cache_write_tokens=1000,
        cache_write_1h_tokens=500,
    )
    assert make_book().cost("acme", "acme-mini", usage) == 3000 * Decimal("0.4") / M


def test_inconsistent_usage_never_goes_negative() -> None:
    usage = Usage(input_tokens=100, cached_input_tokens=400)
    assert make_book().cost("acme", "acme-pro", usage) == 400 * Decimal("0.3") / M


def test_current_period_follows_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    book = make_book()
    found = book.resolve("acme-dated", "acme")
    assert found is not None
    before = datetime(2025, 6, 9, 12, tzinfo=UTC).timestamp()
    monkeypatch.setattr("tokenbudget.pricing._model.time.time", lambda: before)
    assert found.cost(Usage(input_tokens=10**6)) == Decimal(10)
    after = datetime(2025, 6, 10, 0, 0, 1, tzinfo=UTC).timestamp()
    monkeypatch.setattr("tokenbudget.pricing._model.time.time", lambda: after)
    assert found.cost(Usage(input_tokens=10**6)) == Decimal(2)


def test_audio_tokens_priced_at_their_own_rate() -> None:
    file = PriceFile.model_validate(
        {
            "provider": "voice",
            "name": "Voice",
            "pricing_url": "x",
            "models": [
                {
                    "id": "talk",
                    "source": "x",
                    "checked": "2026-11-29",
                    "prices": [
                        {"input": "4", "output": "16", "input_audio": "32", "output_audio": "64"}
                    ],
                }
            ],
        }
    )
    book = PriceBook([file], builtin=False)
    usage = Usage(
        input_tokens=1000, audio_input_tokens=400, output_tokens=100, audio_output_tokens=100
    )
    assert (
        book.cost("voice", "talk", usage)
        == (600 * Decimal(4) + 400 * Decimal(32) + 100 * Decimal(64)) / M
    )


def test_window_across_midnight() -> None:
    file = PriceFile.model_validate(
        {
            "provider": "night",
            "name": "Night",
            "pricing_url": "x",
            "models": [
                {
                    "id": "owl",
                    "source": "x",
                    "checked": "2026-11-29",
                    "prices": [
                        {
                            "input": "1",
                            "output": "1",
                            "windows": [{"utc": "22:00-02:00", "input": "0.5", "output": "0.5"}],
                        }
                    ],
                }
            ],
        }
    )
    book = PriceBook([file], builtin=False)
    usage = Usage(input_tokens=10**6)
    for hour, expected in [(21, "1"), (22, "0.5"), (23, "0.5"), (1, "0.5"), (2, "1"), (12, "1")]:
        at = datetime(2026, 11, 29, hour, 30, tzinfo=UTC)
        assert book.cost("night", "owl", usage, at=at) == Decimal(expected), hour


def test_concurrent_pricing_and_registration() -> None:
    import threading

    book = make_book()
    usage = Usage(input_tokens=1000, output_tokens=500)
    expected = (1000 * D(3) + 500 * D(15)) / M
    errors: list[BaseException] = []

    def price_many() -> None:
        try:
            for _ in range(500):
                assert book.cost("acme", "acme-pro", usage) == expected
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def register_many() -> None:
        for i in range(50):
            book.register(f"other-{i}", provider="acme", input_per_1m="1", output_per_1m="1")

    threads = [threading.Thread(target=price_many) for _ in range(4)]
    threads.append(threading.Thread(target=register_many))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert book.resolve("other-49", "acme") is not None


def test_local_servers_cost_zero_unless_registered() -> None:
    from tokenbudget import Usage
    from tokenbudget.pricing import PriceBook

    book = PriceBook.load()
    usage = Usage(input_tokens=1_000, output_tokens=1_000)
    assert book.cost("local", "llama3.2", usage) == 0
    assert book.cost("openai-compatible", "llama3.2", usage) is None
    book.register("llama3.2", provider="local", input_per_1m="1", output_per_1m="2")
    assert book.cost("local", "llama3.2", usage) == Decimal("0.003")
