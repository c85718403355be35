"""Figures Redis cannot hold never reach it, and never lock a shared budget or the store.

Provider numbers are validated upstream (an absurd count through a real openai
client is dropped there and counted locally); the Redis boundary is checked
behind it on its own: a store batch holding a figure Redis cannot count is set
aside without blocking the ones after it, and the scripts refuse bad arguments
before they write anything. The budget keeps admitting calls, its local and
Redis states agree, and the log says what happened (not that Redis is
unreachable).
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
import redis

from tokenbudget import TokenTracker, budget
from tokenbudget.redis import RedisStore
from tokenbudget.store import StoreWriter

from ..support import fixture_json, json_answer, record, sync_client

ABSURD = 2**63 + 5


def _answer(prompt_tokens: int) -> bytes:
    body: dict[str, Any] = fixture_json("openai/chat.json")
    body["usage"]["prompt_tokens"] = prompt_tokens
    body["usage"]["total_tokens"] = prompt_tokens + 10
    return json.dumps(body).encode()


def _chat(tracker: TokenTracker, prompt_tokens: int) -> None:
    http = sync_client(tracker, "httpx2", json_answer("httpx2", _answer(prompt_tokens)))
    sdk = openai.OpenAI(api_key="sk-test", http_client=http, max_retries=0)
    sdk.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def test_an_absurd_count_does_not_lock_a_shared_budget(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    shared = budget(max_cost_usd=10, key="absurd", backend=redis_url)
    tracker = TokenTracker(budgets=[shared])
    _chat(tracker, ABSURD)
    for _ in range(3):
        _chat(tracker, 19)  # admitted: the budget is not locked
    local = shared.current_usage
    shared.backend.flush()  # type: ignore[attr-defined]
    assert shared.backend.pending == 0  # type: ignore[attr-defined]
    assert local.calls == shared.current_usage.calls == 4
    # the absurd figure was dropped at the provider boundary and counted locally
    assert 3 * 19 < shared.current_usage.input_tokens < 10_000
    assert "cannot be reached" not in caplog.text
    reason = tracker.records[0].usage.estimate_reason
    assert reason is not None and reason.startswith("invalid usage")


def test_a_figure_redis_cannot_count_does_not_block_the_redis_store(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore.from_url(redis_url)
    writer = StoreWriter(store)
    writer.put(record(input_tokens=ABSURD))
    for _ in range(3):
        writer.put(record(input_tokens=19))
    assert writer.flush(timeout=30)
    assert [r.usage.input_tokens for r in writer.rejected] == [ABSURD]
    assert writer.close() == 0
    assert store.summary().input_tokens == 3 * 19
    assert "set aside" in caplog.text
    store.close()


def test_the_scripts_check_their_arguments_before_writing_anything(redis_url: str) -> None:
    from tokenbudget.redis._lua import APPEND, SETTLE  # the scripts, tested alone

    client = redis.Redis.from_url(redis_url)
    window = ["w", "w:held", "w:expired", "w:done"]
    client.hset("w", mapping={"spent_u": 5, "spent_tokens": 7})
    settle = client.register_script(SETTLE)
    for args in (
        ["", "id", 0, 0, 0, 1, 0, 10**30, 0, "calls 1"],
        ["", "id", 0, 0, 0, 1, 0, 10, 0, "input_tokens 1e30"],
        ["", "id", 0, 0, 0, -1, 0, 10, 0, "calls 1"],
    ):
        with pytest.raises(redis.ResponseError, match="tokenbudget: out of range"):
            settle(keys=window, args=args)
    assert client.hgetall("w") == {b"spent_u": b"5", b"spent_tokens": b"7"}
    assert not client.exists("w:done")
    append = client.register_script(APPEND)
    keys = ["batch", "days", "meta", "tags", "day"]
    with pytest.raises(redis.ResponseError, match="tokenbudget: out of range"):
        append(keys=keys, args=[60, 0, "2026-03-01", 1, 2, "a", 1, "b", str(2**64)])
    assert client.keys("*") == [b"w"]
    client.close()
