"""The Redis usage store keeps at most ``max_tag_values`` values per tag name, across processes.

Which values are told apart is decided inside Redis (one registry of values per
store), so many processes writing together still keep at most the cap; later
new values are counted under ``"(other)"``, and every total stays exact.
"""

from __future__ import annotations

from tokenbudget.redis import RedisStore
from tokenbudget.store import OTHER_TAG_VALUE

from ..support import record


def test_unique_tag_values_fold_past_the_cap(redis_url: str) -> None:
    first = RedisStore(url=redis_url, max_tag_values=20)
    second = RedisStore(url=redis_url, max_tag_values=20)  # another process, same store
    for number in range(0, 60, 2):
        first.append([record(tags={"request_id": str(number), "team": "a"})])
        second.append([record(tags={"request_id": str(number + 1), "team": "a"})])
    table = first.breakdown("tag:request_id")
    assert len(table) == 21 and table[OTHER_TAG_VALUE].calls == 40
    assert sum(s.calls for s in table.values()) == 60
    assert first.breakdown("tag:team")["a"].calls == 60 and first.summary().calls == 60
    for number in range(5):  # a value told apart before stays apart
        assert table[str(number)].calls == 1
    first.append([record(tags={"request_id": "0"})])
    assert first.breakdown("tag:request_id")["0"].calls == 2
    first.close()
    second.close()


def test_the_default_cap_is_the_ledgers(redis_url: str) -> None:
    from tokenbudget.store import DEFAULT_MAX_TAG_VALUES

    assert RedisStore(url=redis_url).max_tag_values == DEFAULT_MAX_TAG_VALUES
