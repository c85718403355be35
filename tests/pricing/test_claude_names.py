"""Claude names in any word order resolve to the model the data has, never a neighbour.

Anthropic's ids put the version first up to Claude 3.7 (``claude-3-5-sonnet``)
and the family first since Claude 4 (``claude-sonnet-4-5``); tools, gateways and
people write either order, with dots or dashes in the version, with a date or
``-latest``. Every such spelling of a model the data has must cost what the
official id costs; a version the data does not have must stay unknown.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from importlib import resources

import anthropic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenbudget import TokenTracker, Usage
from tokenbudget.pricing import ModelPrice, PriceBook, calculate_cost
from tokenbudget.testing import FakeLLM, FakeReply

BOOK = PriceBook()
#: A Claude id the test can take apart: family word and version, either order.
ID = re.compile(
    r"^claude-(?:(?P<f1>[a-z]+)-(?P<v1>\d+(?:[.-]\d+)?)|(?P<v2>\d+(?:[.-]\d+)?)-(?P<f2>[a-z]+))"
    r"(?:-\d{8}|-latest)?$"
)
USAGE = Usage(input_tokens=1_000, output_tokens=500)


def _claude_ids() -> list[str]:
    text = resources.files("tokenbudget.pricing").joinpath("data/anthropic.json").read_text()
    return [m["id"] for m in json.loads(text)["models"] if ID.match(m["id"])]


def _parts(model_id: str) -> tuple[str, tuple[str, ...]]:
    match = ID.match(model_id)
    assert match is not None, model_id
    family = match["f1"] or match["f2"]
    version = tuple(re.split(r"[.-]", match["v1"] or match["v2"]))
    return family, version


def _spellings(model_id: str) -> list[str]:
    """Both word orders x dotted/dashed version x no suffix, a date, ``-latest``."""
    family, version = _parts(model_id)
    joins = {"-".join(version), ".".join(version)}
    out = []
    for v in sorted(joins):
        for suffix in ("", "-20250101", "-latest"):
            out.append(f"claude-{family}-{v}{suffix}")
            out.append(f"claude-{v}-{family}{suffix}")
    return out


CASES = [(model_id, name) for model_id in _claude_ids() for name in _spellings(model_id)]


def _key(price: ModelPrice | None) -> tuple[str, str] | None:
    return None if price is None else (price.provider, price.entry.id)


def test_the_table_covers_both_eras() -> None:
    ids = _claude_ids()
    assert "claude-3-5-sonnet" in ids and "claude-sonnet-4-5" in ids
    assert len(CASES) >= 6 * len(ids)


@pytest.mark.parametrize(("model_id", "name"), CASES)
def test_every_spelling_costs_what_the_official_id_costs(model_id: str, name: str) -> None:
    official = BOOK.resolve(model_id)
    assert official is not None and official.provider == "anthropic"
    for provider in (None, "anthropic"):
        found = BOOK.resolve(name, provider)
        assert _key(found) == _key(official), (name, provider)
        assert BOOK.cost(provider, name, USAGE) == BOOK.cost(provider, model_id, USAGE)


@pytest.mark.parametrize(
    ("name", "official"),
    [
        ("claude-4-opus", "claude-opus-4-0"),
        ("claude-4-opus-20250514", "claude-opus-4-0"),
        ("claude-4-sonnet", "claude-sonnet-4-0"),
        ("claude-4.5-haiku", "claude-haiku-4-5"),
        ("claude-4-1-opus", "claude-opus-4-1"),
        ("claude-sonnet-3-7", "claude-3-7-sonnet"),
        ("claude-sonnet-3.7-20250219", "claude-3-7-sonnet"),
        ("claude-haiku-3", "claude-3-haiku"),
        ("claude-opus-3", "claude-3-opus"),
        ("anthropic/claude-4.6-opus", "claude-opus-4-6"),
        ("Claude-Sonnet-3-5@20240620", "claude-3-5-sonnet"),
    ],
)
def test_the_issues_examples(name: str, official: str) -> None:
    assert _key(BOOK.resolve(name)) == ("anthropic", official)
    assert calculate_cost(name, 1_000, 500) == calculate_cost(official, 1_000, 500)


@pytest.mark.parametrize(
    "name",
    [
        "claude-opus-3-5",  # there was no Opus 3.5
        "claude-3-5-opus",
        "claude-3.5-opus",
        "claude-haiku-4",  # no Haiku 4.0: not Haiku 4.5
        "claude-4-haiku",
        "claude-4-2-opus",
        "claude-sonnet-3-1",
        "claude-opus-6",
        "claude-6-opus",
        "claude-5-haiku",
        "claude-nova-4",  # no such family
        "claude-4-nova",
    ],
)
def test_versions_the_data_lacks_stay_unknown(name: str) -> None:
    assert BOOK.resolve(name, "anthropic") is None


@pytest.mark.parametrize(
    ("name", "official"),
    [
        ("claude-3-opus", "claude-3-opus"),
        ("claude-opus-3-latest", "claude-3-opus"),
        ("claude-opus-4", "claude-opus-4-0"),
        ("claude-4-5-opus", "claude-opus-4-5"),
        ("claude-sonnet-5", "claude-sonnet-5"),
        ("claude-5-5-sonnet", "claude-sonnet-5-5"),
    ],
)
def test_never_a_neighbour_model(name: str, official: str) -> None:
    assert _key(BOOK.resolve(name, "anthropic")) == ("anthropic", official)


FAMILIES = st.sampled_from(["opus", "sonnet", "haiku", "fable", "mythos", "instant", "nova"])
VERSIONS = st.tuples(st.integers(0, 9).map(str), st.none() | st.integers(0, 9).map(str)).map(
    lambda v: tuple(p for p in v if p is not None)
)


@given(
    family=FAMILIES,
    version=VERSIONS,
    dot=st.booleans(),
    suffix=st.sampled_from(["", "-20250514", "-latest", "@20240620"]),
    prefix=st.sampled_from(["", "anthropic/", "openrouter/anthropic/"]),
    provider=st.sampled_from([None, "anthropic", "openrouter", "vertex"]),
)
def test_resolution_is_order_insensitive_and_stays_in_its_family(
    family: str,
    version: tuple[str, ...],
    dot: bool,
    suffix: str,
    prefix: str,
    provider: str | None,
) -> None:
    v = ("." if dot else "-").join(version)
    first = BOOK.resolve(f"{prefix}claude-{family}-{v}{suffix}", provider)
    second = BOOK.resolve(f"{prefix}claude-{v}-{family}{suffix}", provider)
    assert _key(first) == _key(second)
    for found in (first, second):
        if found is None:
            continue
        resolved_family, resolved_version = _parts(found.entry.id.split("/")[-1].split(":")[0])
        assert resolved_family == family
        assert resolved_version[0] == version[0]
        assert resolved_version[1:] == version[1:] or {resolved_version[1:], version[1:]} <= {
            ("0",),
            (),
        }


def test_a_variant_name_in_a_real_sdk_response_is_priced() -> None:
    tracker = TokenTracker()
    fake = FakeLLM([FakeReply(text="Paris.", model="claude-4-opus-20250514")])
    client = anthropic.Anthropic(
        api_key="sk-ant-fake", http_client=tracker.httpx_client(transport=fake), max_retries=0
    )

    message = client.messages.create(
        model="claude-opus-4-0",
        max_tokens=64,
        messages=[{"role": "user", "content": "Capital of France?"}],
    )

    assert message.model == "claude-4-opus-20250514"
    (record,) = tracker.records
    assert record.cost_usd is not None and record.cost_usd > 0
    expected = calculate_cost(
        "claude-opus-4-0", record.usage.input_tokens, record.usage.output_tokens
    )
    assert record.cost_usd == expected
    assert expected == (
        Decimal(record.usage.input_tokens) * 15 + Decimal(record.usage.output_tokens) * 75
    ) / Decimal(1_000_000)
