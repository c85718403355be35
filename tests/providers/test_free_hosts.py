"""Hosts tokenbudget takes for free local servers never price a paying model at $0 silently.

Ollama (``:11434``), vLLM (``:8000``), LM Studio (``:1234``) and any loopback
host are taken for local servers, whose models cost nothing. A model the price
book sells at a paying provider, answered there (a LiteLLM proxy, a gateway on
localhost), is priced at its list price, marked (``record.via``) and warned about
once per host and model. Mapping the host to ``"local"`` yourself keeps $0, silently.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import anthropic
import openai
import pytest

from tokenbudget import TokenTracker, calculate_cost
from tokenbudget.pricing import PriceBook
from tokenbudget.testing import FakeLLM, FakeReply

MESSAGES = [{"role": "user", "content": "Hi"}]
REPLY = FakeReply(text="Hello.", input_tokens=1000, output_tokens=100)


def _client(tracker: TokenTracker, base_url: str) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="ollama",
        base_url=base_url,
        http_client=tracker.httpx_client(transport=FakeLLM(reply=REPLY)),
        max_retries=0,
    )


def _warnings(caplog: pytest.LogCaptureFixture, host: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if host in r.getMessage()]


@pytest.mark.parametrize("host", ["localhost:11434", "127.0.0.1:8000", "localhost:1234"])
def test_a_paying_model_on_a_local_port_costs_its_list_price_and_is_flagged(
    host: str, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = TokenTracker()
    client = _client(tracker, f"http://{host}/v1")
    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        for model in ("gpt-4o-mini", "gpt-4o-mini", "gpt-4.1-nano"):
            client.chat.completions.create(model=model, messages=MESSAGES)
    first = tracker.records[0]
    assert first.provider == "openai"
    assert first.via == host
    assert first.cost_usd == calculate_cost("gpt-4o-mini", 1000, 100, provider="openai") > 0
    assert tracker.records[2].cost_usd == calculate_cost("gpt-4.1-nano", 1000, 100)
    warnings = _warnings(caplog, host)
    assert len(warnings) == 2  # once per host and model
    assert "gpt-4o-mini" in warnings[0] and "gpt-4.1-nano" in warnings[1]
    assert "list price" in warnings[0] and f"hosts={{'{host}': 'local'}}" in warnings[0]


def test_an_unknown_model_on_a_local_server_stays_free_and_silent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracker = TokenTracker()
    client = _client(tracker, "http://localhost:11434/v1")
    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        client.chat.completions.create(model="llama3.2", messages=MESSAGES)
    (record,) = tracker.records
    assert record.provider == "local"
    assert record.cost_usd == Decimal(0)
    assert record.via == "localhost:11434"
    assert _warnings(caplog, "localhost:11434") == []


@pytest.mark.parametrize("how", ["hosts", "register_host"])
def test_mapping_a_host_to_local_is_the_explicit_choice_of_free(
    how: str, caplog: pytest.LogCaptureFixture
) -> None:
    if how == "hosts":
        tracker = TokenTracker(hosts={"localhost:4000": "local"})
    else:
        tracker = TokenTracker()
        tracker.register_host("localhost:4000", "local")
    client = _client(tracker, "http://localhost:4000/v1")
    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    (record,) = tracker.records
    assert record.provider == "local"
    assert record.cost_usd == Decimal(0)
    assert record.via is None
    assert caplog.records == []


def test_mapping_an_ollama_port_to_local_silences_it(caplog: pytest.LogCaptureFixture) -> None:
    tracker = TokenTracker(hosts={"localhost:11434": "local"})
    client = _client(tracker, "http://localhost:11434/v1")
    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert tracker.records[0].cost_usd == Decimal(0)
    assert caplog.records == []


def test_a_price_registered_for_local_models_wins() -> None:
    book = PriceBook.load()
    book.register("gpt-4o", provider="local", input_per_1m=1, output_per_1m=1)
    tracker = TokenTracker(prices=book)
    _client(tracker, "http://localhost:11434/v1").chat.completions.create(
        model="gpt-4o", messages=MESSAGES
    )
    (record,) = tracker.records
    assert record.provider == "local"
    assert record.cost_usd == Decimal(1100) / 1_000_000


def test_an_anthropic_model_on_a_local_port(caplog: pytest.LogCaptureFixture) -> None:
    tracker = TokenTracker()
    client = anthropic.Anthropic(
        api_key="k",
        base_url="http://localhost:8000",
        http_client=tracker.httpx_client(transport=FakeLLM(reply=REPLY)),
        max_retries=0,
    )
    with caplog.at_level(logging.WARNING, logger="tokenbudget"):
        client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=MESSAGES)
    (record,) = tracker.records
    assert record.provider == "anthropic" and record.via == "localhost:8000"
    assert record.cost_usd == calculate_cost("claude-haiku-4-5", 1000, 100)
    assert len(_warnings(caplog, "localhost:8000")) == 1


def test_which_models_a_host_that_says_nothing_is_billed_for() -> None:
    book = PriceBook.load()
    book.register("my-finetune", input_per_1m=1, output_per_1m=1)  # any provider
    book.register("house-llm", provider="local", input_per_1m=1, output_per_1m=1)
    assert book.list_provider("gpt-4o") == "openai"
    assert book.list_provider("claude-sonnet-4-5-20250929") == "anthropic"
    assert book.list_provider("models/gemini-2.5-flash") == "google"
    assert book.list_provider("llama3.2") is None  # unknown: a local model stays free
    assert book.list_provider("my-finetune") is None  # registered for no provider
    assert book.list_provider("house-llm") is None  # registered as a local model
    unpriced = next(name for name, price in book.models("openai").items() if price.unpriced)
    assert book.list_provider(unpriced) is None  # known, but sold by a unit not priced
