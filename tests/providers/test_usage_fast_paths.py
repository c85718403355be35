"""The usage normalisers' fast paths give exactly what their general paths give.

Each normaliser reads the usual report (plain ints in range, details as dicts)
straight into its :class:`~tokenbudget.Usage`, and hands anything else to the
general path through :class:`~tokenbudget.providers.UsageFigures`, which notes
each dropped figure. For random usage objects (valid and invalid figures,
missing keys, nested details, extra keys) both give the same Usage and the same
``estimate_reason``; through the real openai SDK, a JSON answer records what a
full parse of it says.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import hypothesis.strategies as st
import openai
from hypothesis import HealthCheck, given, settings

from tokenbudget import TokenTracker
from tokenbudget.providers import MAX_TOKENS
from tokenbudget.providers.anthropic import _usage as anthropic_usage
from tokenbudget.providers.anthropic._usage import normalise_anthropic_usage
from tokenbudget.providers.google import _usage as gemini_usage
from tokenbudget.providers.google._usage import normalise_gemini_usage
from tokenbudget.providers.openai import _usage as openai_usage
from tokenbudget.providers.openai._usage import normalise_openai_usage

from ..support import StubBook, fixture_json, mock_transport, response

#: Figures around the edges of validity: in range, at and past the ceiling, negative,
#: and every JSON value that is not a count.
FIGURES = (
    st.integers(0, 3000)
    | st.sampled_from([0, MAX_TOKENS, MAX_TOKENS + 1, -1, 2**31, 2**63])
    | st.none()
    | st.booleans()
    | st.floats(allow_nan=True)
    | st.text(max_size=4)
    | st.lists(st.integers(0, 3), max_size=2)
)
VALID = st.integers(0, MAX_TOKENS)
#: Valid figures up to half the ceiling: a fast path checks a bitwise or of its figures
#: against the ceiling (at most twice the largest), so these always take it.
USUAL = st.integers(0, MAX_TOKENS // 2)


def details(keys: list[str], figures: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A details object: a dict of some of ``keys`` (and a stray one), or anything else."""
    names = st.sampled_from([*keys, "accepted_prediction_tokens", "other"])
    return st.dictionaries(names, figures, max_size=5) | figures | st.just({})


def openai_usage_objects(figures: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Chat or Responses usage objects, any key possibly missing."""
    in_keys = ["cached_tokens", "cache_write_tokens", "audio_tokens", "image_tokens"]
    out_keys = ["reasoning_tokens", "audio_tokens"]
    chat = st.fixed_dictionaries(
        {},
        optional={
            "prompt_tokens": figures,
            "completion_tokens": figures,
            "total_tokens": figures,
            "prompt_tokens_details": details(in_keys, figures),
            "completion_tokens_details": details(out_keys, figures),
        },
    )
    responses = st.fixed_dictionaries(
        {"input_tokens": figures},
        optional={
            "output_tokens": figures,
            "input_tokens_details": details(in_keys, figures),
            "output_tokens_details": details(out_keys, figures),
            "prompt_tokens": figures,  # both conventions at once: Responses wins
        },
    )
    return chat | responses


def general_openai(usage: dict[str, Any]) -> Any:
    names = (
        openai_usage._RESPONSES
        if "input_tokens" in usage or "output_tokens" in usage
        else openai_usage._CHAT
    )
    return openai_usage._read_figures(usage, names)


@settings(max_examples=1500, deadline=None)
@given(openai_usage_objects(FIGURES))
def test_openai_fast_path_gives_what_the_general_path_gives(usage: dict[str, Any]) -> None:
    assert normalise_openai_usage(usage) == general_openai(usage)


@settings(max_examples=300, deadline=None)
@given(openai_usage_objects(USUAL))
def test_openai_valid_reports_take_the_fast_path(usage: dict[str, Any]) -> None:
    usage.setdefault("input_tokens" if "input_tokens" in usage else "prompt_tokens", 1)
    for key in ("prompt_tokens_details", "completion_tokens_details"):
        if type(usage.get(key)) is int:  # an int where an object belongs: not a usual report
            usage[key] = {}
    for key in ("input_tokens_details", "output_tokens_details"):
        if type(usage.get(key)) is int:
            usage[key] = {}
    with mock.patch.object(openai_usage, "_read_figures", side_effect=AssertionError):
        normalised = normalise_openai_usage(usage)
    assert normalised == general_openai(usage)
    assert not normalised.estimated


# -- through the real openai SDK ----------------------------------------------------------------


def _chat_body(usage: dict[str, Any], indent: int | None) -> tuple[dict[str, Any], bytes]:
    document = fixture_json("openai/chat.json")
    document["usage"] = usage
    return document, json.dumps(document, indent=indent).encode()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    usage=openai_usage_objects(FIGURES.filter(lambda v: not isinstance(v, float)) | VALID),
    indent=st.sampled_from([None, 2]),
)
def test_a_json_answer_records_what_a_full_parse_says(
    family: str, usage: dict[str, Any], indent: int | None
) -> None:
    """Scanned (the usual answer) or parsed in full (anything odd): the same record."""
    document, body = _chat_body(usage, indent)
    tracker = TokenTracker(prices=StubBook())

    def handler(request: Any) -> Any:
        return response(family, 200, headers={"content-type": "application/json"}, content=body)

    http_client = tracker.httpx_client(family=family, transport=mock_transport(family, handler))
    client = openai.OpenAI(api_key="sk-test", http_client=http_client)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    record = tracker.records[-1]
    parsed = json.loads(body)
    assert record.raw_usage == parsed["usage"]
    assert record.model == document["model"]
    assert record.response_id == document["id"]
    assert record.service_tier == document["service_tier"]
    expected = normalise_openai_usage(parsed["usage"])
    if expected.estimated:  # dropped figures: the record counts the answer's text instead
        assert record.usage.estimated
        assert record.usage.estimate_reason == expected.estimate_reason
    else:
        assert record.usage == expected


# -- Anthropic and Gemini -----------------------------------------------------------------------


def anthropic_usage_objects(figures: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "input_tokens": figures,
            "output_tokens": figures,
            "cache_read_input_tokens": figures,
            "cache_creation_input_tokens": figures,
            "cache_creation": details(
                ["ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"], figures
            ),
            "output_tokens_details": details(["thinking_tokens"], figures),
            "server_tool_use": st.none()
            | st.just({})
            | details(["web_search_requests", "web_fetch_requests"], figures),
            "service_tier": st.sampled_from(["standard", "priority"]),
        },
    )


@settings(max_examples=1500, deadline=None)
@given(anthropic_usage_objects(FIGURES))
def test_anthropic_fast_path_gives_what_the_general_path_gives(usage: dict[str, Any]) -> None:
    assert normalise_anthropic_usage(usage) == anthropic_usage._read_figures(usage)


@settings(max_examples=300, deadline=None)
@given(anthropic_usage_objects(st.integers(0, MAX_TOKENS // 4)))
def test_anthropic_valid_reports_take_the_fast_path(usage: dict[str, Any]) -> None:
    usage.setdefault("input_tokens", 3)
    usage.setdefault("output_tokens", 1)
    for key in ("cache_creation", "output_tokens_details"):
        if type(usage.get(key)) is int:
            usage[key] = {}
    usage["server_tool_use"] = None
    with mock.patch.object(anthropic_usage, "_read_figures", side_effect=AssertionError):
        normalised = normalise_anthropic_usage(usage)
    assert normalised == anthropic_usage._read_figures(usage)
    assert not normalised.estimated


MODALITIES = st.sampled_from(["TEXT", "AUDIO", "IMAGE", "audio", "VIDEO"])


def modality_lists(figures: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    entry = st.fixed_dictionaries(
        {"modality": MODALITIES | figures}, optional={"tokenCount": figures}
    ) | st.fixed_dictionaries({}, optional={"tokenCount": figures})
    return st.lists(entry | figures, max_size=4) | figures


def gemini_usage_objects(figures: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "promptTokenCount": figures,
            "candidatesTokenCount": figures,
            "totalTokenCount": figures,
            "cachedContentTokenCount": figures,
            "toolUsePromptTokenCount": figures,
            "thoughtsTokenCount": figures,
            "promptTokensDetails": modality_lists(figures),
            "candidatesTokensDetails": modality_lists(figures),
            "toolUsePromptTokensDetails": modality_lists(figures),
            "trafficType": st.just("ON_DEMAND"),
        },
    )


@settings(max_examples=1500, deadline=None)
@given(gemini_usage_objects(FIGURES))
def test_gemini_fast_path_gives_what_the_general_path_gives(meta: dict[str, Any]) -> None:
    assert normalise_gemini_usage(meta) == gemini_usage._read_figures(meta)


@settings(max_examples=300, deadline=None)
@given(gemini_usage_objects(st.integers(0, MAX_TOKENS // 8)))
def test_gemini_valid_reports_take_the_fast_path(meta: dict[str, Any]) -> None:
    for key in ("promptTokensDetails", "candidatesTokensDetails", "toolUsePromptTokensDetails"):
        value = meta.get(key)
        if type(value) is list:  # entries as Gemini sends them: a modality and a count
            meta[key] = [
                {"modality": "AUDIO", "tokenCount": 1} if type(item) is not dict else item
                for item in value
                if type(item) is not dict or type(item.get("modality")) is str
            ]
        elif value is not None:
            meta[key] = []
    with mock.patch.object(gemini_usage, "_read_figures", side_effect=AssertionError):
        normalised = normalise_gemini_usage(meta)
    assert normalised == gemini_usage._read_figures(meta)
    assert not normalised.estimated
