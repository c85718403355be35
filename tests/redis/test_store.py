"""``RedisStore`` (``TokenTracker(store="redis://...")``, ``tokenbudget report redis://...``)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from tokenbudget import CallRecord, StoreError, TokenTracker, Usage, export_html
from tokenbudget.cli import main
from tokenbudget.redis import RecordsUnavailable, RedisStore
from tokenbudget.store import Query, SQLiteStore, open_store

from ..support import record
from .helpers import UTC


def corpus(count: int = 300, seed: int = 7) -> list[CallRecord]:
    """Calls over five days, three providers, tags, unpriced, cached, failed, odd costs."""
    pick = random.Random(seed)
    models = [("openai", "gpt-5"), ("openai", "gpt-4o"), ("anthropic", "claude"), ("google", None)]
    out = []
    for index in range(count):
        provider, model = pick.choice(models)
        cost = pick.choice([None, "0", "0.000135", "1.25", "0.041666666666666664e-6", "3e-20"])
        tags = pick.choice([{}, {"feature": "search"}, {"feature": "chat", "team": "a"}])
        out.append(
            CallRecord(
                timestamp=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=23 * index),
                provider=provider,
                model=model,
                endpoint="chat",
                usage=Usage(
                    input_tokens=pick.randint(0, 5000),
                    output_tokens=pick.randint(0, 900),
                    cached_input_tokens=pick.randint(0, 10),
                    cache_write_tokens=pick.randint(0, 3),
                    reasoning_tokens=pick.randint(0, 2),
                    estimated=index % 7 == 0,
                ),
                cost_usd=None if cost is None else Decimal(cost),
                cached=index % 5 == 0,
                saved_cost_usd=Decimal("0.001") if index % 5 == 0 else None,
                status_code=500 if index % 11 == 0 else 200,
                tags=tags,
            )
        )
    return out


@pytest.fixture
def stores(redis_url: str) -> tuple[RedisStore, SQLiteStore]:
    calls = corpus()
    shared, reference = RedisStore(url=redis_url), SQLiteStore(":memory:")
    for start in range(0, len(calls), 64):
        shared.append(calls[start : start + 64])
        reference.append(calls[start : start + 64])
    return shared, reference


QUERIES = [
    Query(),
    Query.build(date(2026, 1, 2), date(2026, 1, 4)),
    Query.build(date(2026, 1, 3)),
    Query.build(provider="openai"),
    Query.build(model="gpt-5", end=date(2026, 1, 3)),
    Query.build(tags={"feature": "search"}),
    Query.build(date(2026, 1, 2), tags={"team": "a"}),
]


@pytest.mark.parametrize("query", QUERIES)
def test_totals_are_those_of_the_sqlite_store(
    stores: tuple[RedisStore, SQLiteStore], query: Query
) -> None:
    shared, reference = stores
    assert shared.summary(query) == reference.summary(query)
    assert shared.breakdown("day", query) == reference.breakdown("day", query)
    if not query.tags:
        for by in ("provider", "model"):
            assert shared.breakdown(by, query) == reference.breakdown(by, query)
    if not (query.provider or query.model or query.tags):
        for by in ("tag", "tag:feature"):
            assert shared.breakdown(by, query) == reference.breakdown(by, query)


def test_money_is_exact_to_the_last_digit(stores: tuple[RedisStore, SQLiteStore]) -> None:
    shared, _ = stores
    expected = sum((r.cost_usd for r in corpus() if r.cost_usd is not None), Decimal(0))
    assert shared.summary().cost_usd == expected
    assert -expected.as_tuple().exponent == 24  # 24 decimals (float noise in price data), kept


def test_a_tracker_starts_from_the_store_and_adds_to_it(redis_url: str) -> None:
    with TokenTracker(store=redis_url) as first:
        first.track("gpt-4o", 1000, 200, tags={"feature": "search"})
        first.track("claude-sonnet-4-5", 10, 5)
    with TokenTracker(store=redis_url) as second:
        assert second.usage == first.usage and second.usage.calls == 2
        assert second.usage_by_tag("feature") == first.usage_by_tag("feature")
        second.track("gpt-4o", 1, 1)
        second.flush()
        assert second.store is not None and second.store.summary().calls == 3


def test_what_counters_cannot_answer_is_a_clear_error(
    stores: tuple[RedisStore, SQLiteStore], caplog: pytest.LogCaptureFixture
) -> None:
    shared, _ = stores
    with pytest.raises(StoreError, match="cannot group by model with a tag filter"):
        shared.breakdown("model", Query.build(tags={"feature": "chat"}))
    with pytest.raises(StoreError, match="several tags"):
        shared.summary(Query.build(tags={"feature": "chat", "team": "a"}))
    with pytest.raises(StoreError, match="group by tag with provider"):
        shared.breakdown("tag", Query.build(provider="openai"))
    with pytest.raises(RecordsUnavailable, match="not individual calls") as error:
        list(shared.records())
    assert isinstance(error.value, NotImplementedError)
    with pytest.raises(RecordsUnavailable, match="cannot be repriced"):
        shared.reprice(lambda *a: None, price_version=None)
    halfway = Query.build(datetime(2026, 1, 2, 12, tzinfo=UTC), date(2026, 1, 3))
    assert shared.summary(halfway) == shared.summary(
        Query.build(date(2026, 1, 2), date(2026, 1, 3))
    )
    assert "counts whole UTC days" in caplog.text


def test_a_batch_retried_after_a_lost_reply_counts_once(redis_url: str) -> None:
    store = RedisStore(url=redis_url)
    calls = [record(cost="0.5"), record(cost="0.25")]
    keys, args = store._batch("lost-reply", calls)
    store._append(keys=keys, args=args)  # written, but the writer never heard back
    store._tokens = {id(call): ("lost-reply", call) for call in calls}
    store.append([*calls, record(cost="1")])  # the retry carries the first two again
    assert store.summary().calls == 3 and store.summary().cost_usd == Decimal("1.75")
    assert store._tokens == {}


def test_report_reads_a_redis_store(
    redis_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with TokenTracker(store=redis_url) as tracker:
        tracker.track("gpt-4o", 1000, 200)
    assert main(["report", redis_url, "--by", "model"]) == 0
    out = capsys.readouterr().out
    assert "gpt-4o" in out and "1.20k" in out and "$0.0045" in out
    prefixed = redis_url + "?prefix=elsewhere"
    assert main(["report", prefixed]) == 1
    assert "no tokenbudget usage store there" in capsys.readouterr().err
    assert main(["report", redis_url, "--format", "csv"]) == 1
    assert "not individual calls" in capsys.readouterr().err
    with RedisStore.from_url(redis_url) as store:
        export_html(store, tmp_path / "report.html", by="day")
    assert "gpt-4o" in (tmp_path / "report.html").read_text()


def test_prefix_and_password_in_the_url(redis_url: str, tmp_path: Path) -> None:
    store = open_store(redis_url + "?prefix=team-a")
    assert isinstance(store, RedisStore) and store.prefix == "team-a"
    store.append([record(cost="1")])
    assert redis.Redis.from_url(redis_url).exists("team-a:usage:meta")
    hidden = RedisStore.from_url("redis://user:secret@127.0.0.1:1/0")
    assert "secret" not in hidden.url and "***" in hidden.url
