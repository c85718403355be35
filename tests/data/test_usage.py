"""``Usage``: arithmetic over calls and its dict form."""

from __future__ import annotations

from tokenbudget import Usage


def test_usage_arithmetic_and_dict() -> None:
    total = Usage(input_tokens=10, cached_input_tokens=4, extra={"web_search_requests": 1}) + Usage(
        output_tokens=5, reasoning_tokens=2, estimated=True, extra={"web_search_requests": 2}
    )
    assert total.total_tokens == 15 and total.uncached_input_tokens == 6
    assert total.estimated and dict(total.extra) == {"web_search_requests": 3}
    assert total.to_dict()["total_tokens"] == 15
