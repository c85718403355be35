"""Dated aliases: a ``-latest`` name means different models over time, chosen by the call's date."""

from __future__ import annotations

import copy
import functools
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenbudget import Usage
from tokenbudget.pricing import (
    PriceBook,
    PriceDataError,
    PriceFile,
)

UTC = timezone.utc

FILE: dict[str, Any] = {
    "provider": "acme",
    "name": "Acme AI",
    "pricing_url": "https://acme.test/pricing",
    "models": [
        {
            "id": "acme-1",
            "aliases": ["acme-one"],
            "source": "https://acme.test/1",
            "checked": "2026-11-29",
            "prices": [{"input": "4", "output": "8"}],
        },
        {
            "id": "acme-2",
            "source": "https://acme.test/2",
            "checked": "2026-11-29",
            # acme-2 itself got cheaper on 2026-03-01: the alias follows its history.
            "prices": [
                {"input": "2", "output": "6"},
                {"from": "2026-03-01", "input": "1", "output": "3"},
            ],
        },
    ],
    "dated_aliases": [
        {
            "alias": "acme-latest",
            "source": "https://acme.test/changelog",
            "targets": [
                {"model": "acme-1"},
                {"from": "2026-01-01", "model": "acme-2"},
            ],
        }
    ],
}


def book(data: dict[str, Any] = FILE) -> PriceBook:
    return PriceBook([PriceFile.model_validate(data)], builtin=False)


@functools.cache
def acme_book() -> PriceBook:
    """One book shared by the property's examples, so its resolution cache is exercised."""
    return book()


def usage() -> Usage:
    return Usage(input_tokens=1_000_000, output_tokens=1_000_000)


def test_the_alias_resolves_by_date_and_follows_the_target_history() -> None:
    prices = book()
    jan = datetime(2025, 6, 1, tzinfo=UTC)
    assert prices.resolve("acme-latest", "acme", at=jan).model == "acme-1"  # type: ignore[union-attr]
    assert prices.cost("acme", "acme-latest", usage(), at=jan) == 12
    feb = datetime(2026, 2, 1, tzinfo=UTC)
    assert prices.cost("acme", "acme-latest", usage(), at=feb) == 8
    assert prices.cost("acme", "acme-latest", usage(), at=datetime(2026, 4, 1)) == 4
    # Now (no date): acme-2's current price; and the cached resolution is not stuck on a date.
    assert prices.cost("acme", "acme-latest", usage()) == 4
    assert prices.cost("acme", "acme-latest", usage(), at=jan) == 12
    assert prices.resolve("acme-latest", "acme").model == "acme-2"  # type: ignore[union-attr]
    # A plain alias still names its one model.
    assert prices.cost("acme", "acme-one", usage(), at=feb) == 12
    # Listing shows models, not the alias.
    assert sorted(prices.models("acme")) == ["acme-1", "acme-2"]


def test_plain_aliases_and_later_layers_still_win() -> None:
    override = {
        "provider": "acme",
        "name": "Acme AI",
        "pricing_url": "https://acme.test/pricing",
        "models": [
            {
                "id": "acme-3",
                "aliases": ["acme-latest"],
                "source": "https://acme.test/3",
                "checked": "2026-11-29",
                "prices": [{"input": "1", "output": "1"}],
            }
        ],
    }
    prices = PriceBook(
        [PriceFile.model_validate(FILE), PriceFile.model_validate(override)], builtin=False
    )
    assert prices.cost("acme", "acme-latest", usage(), at=datetime(2025, 1, 1)) == 2


def test_an_alias_to_a_missing_model_is_skipped_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = copy.deepcopy(FILE)
    data["dated_aliases"][0]["targets"][1]["model"] = "acme-9"
    prices = book(data)
    with caplog.at_level("WARNING", logger="tokenbudget.pricing"):
        assert prices.cost("acme", "acme-latest", usage()) is None
    assert "'acme-9', which is not one of its models" in caplog.text


def bad(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(FILE)
    change(data["dated_aliases"][0])
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a["targets"].reverse(), "only the first"),
        (
            lambda a: a["targets"].append({"from": "2025-06-01", "model": "acme-1"}),
            "strictly increasing",
        ),
        (
            lambda a: a["targets"].append({"from": "2026-01-01", "model": "acme-1"}),
            "strictly increasing",
        ),
        (lambda a: a.update(targets=[]), "at least 1"),
        (lambda a: a.update(alias="ACME-one"), "already used"),
        (lambda a: a["targets"][0].update(model="acme-latest"), "itself"),
        (lambda a: a["targets"][1].update(model=""), "at least 1"),
    ],
)
def test_bad_dated_aliases_are_rejected_at_load(change: Any, message: str, tmp_path: Any) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"format": "tokenbudget-prices/1", "providers": [bad(change)]}))
    with pytest.raises(PriceDataError, match=message):
        PriceBook.load(path)


BOUNDARY = datetime(2026, 1, 1, tzinfo=UTC)


@given(offset=st.integers(min_value=-(10**7), max_value=10**7))
def test_around_the_switch_the_price_is_the_target_of_that_moment(offset: int) -> None:
    prices = acme_book()
    moment = BOUNDARY + timedelta(milliseconds=offset)
    expected = "acme-1" if moment < BOUNDARY else "acme-2"
    found = prices.resolve("acme-latest", "acme", at=moment)
    assert found is not None and found.model == expected
    target = prices.resolve(expected, "acme")
    assert target is not None
    assert prices.cost("acme", "acme-latest", usage(), at=moment) == target.cost(usage(), at=moment)
    # A naive datetime is UTC, and a date is its midnight UTC.
    naive = moment.replace(tzinfo=None)
    assert prices.cost("acme", "acme-latest", usage(), at=naive) == prices.cost(
        "acme", "acme-latest", usage(), at=moment
    )


DAYS = st.integers(min_value=0, max_value=3)


@given(gaps=st.lists(DAYS, min_size=1, max_size=5), first_open=st.booleans())
def test_alias_targets_load_only_when_their_dates_strictly_increase(
    gaps: list[int], first_open: bool
) -> None:
    day = BOUNDARY
    targets: list[dict[str, Any]] = []
    for i, gap in enumerate(gaps):
        day += timedelta(days=gap)
        target: dict[str, Any] = {"model": "acme-1" if i % 2 else "acme-2"}
        if not (first_open and i == 0):
            target["from"] = day.date().isoformat()
        targets.append(target)
    data = copy.deepcopy(FILE)
    data["dated_aliases"][0]["targets"] = targets
    dated = [gap for i, gap in enumerate(gaps) if not (first_open and i == 0)]
    valid = all(gap > 0 for gap in dated[1:])
    if valid:
        prices = book(data)
        last = prices.resolve("acme-latest", "acme", at=day)
        assert last is not None and last.model == targets[-1]["model"]
    else:
        with pytest.raises(ValueError, match="strictly increasing"):
            PriceFile.model_validate(data)
