"""``tokenbudget.otel``'s public names, its missing-extra error, and the Gemini mapping."""

from __future__ import annotations

import importlib
import sys
import types

import anthropic
import pytest

pytest.importorskip("opentelemetry.sdk")

from google import genai
from google.genai import types as genai_types
from hypothesis import given
from hypothesis import strategies as st

import tokenbudget.otel
from tokenbudget import TokenTracker
from tokenbudget.otel import span_attributes
from tokenbudget.testing import FakeLLM, FakeReply

from ..support import collect, record
from .helpers import Otel, by_token_type, histogram_points


def test_every_public_looking_member_is_in_all() -> None:
    members = {
        name
        for name, value in vars(tokenbudget.otel).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", "tokenbudget").startswith("tokenbudget")
    }
    assert sorted(members - set(tokenbudget.otel.__all__)) == []
    assert [n for n in tokenbudget.otel.__all__ if not hasattr(tokenbudget.otel, n)] == []


def test_without_the_api_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n.startswith("tokenbudget.otel")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "opentelemetry.metrics", None)
    with pytest.raises(ImportError, match=r'pip install "tokenbudget\[otel\]"'):
        importlib.import_module("tokenbudget.otel")


@pytest.mark.parametrize(
    ("value", "legacy"),
    [
        ("", True),
        ("http", True),
        ("gen_ai_latest_experimental", False),
        ("http/dup, gen_ai_latest_experimental ,database", False),
        ("gen_ai_latest_experimentalx", True),
    ],
)
def test_stability_opt_in(
    otel: Otel, monkeypatch: pytest.MonkeyPatch, value: str, legacy: bool
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", value)
    tracker = TokenTracker()
    otel.instrument(tracker, spans="client")
    http = tracker.httpx_client(transport=FakeLLM([FakeReply("Hi.", cache_write_tokens=3)]))
    anthropic.Anthropic(api_key="k", http_client=http, max_retries=0).messages.create(
        model="claude-sonnet-4-6", max_tokens=9, messages=[{"role": "user", "content": "Hi " * 9}]
    )
    (span,) = otel.spans()
    assert span.attributes is not None
    assert ("gen_ai.system" in span.attributes) is legacy
    assert ("gen_ai.usage.cache_creation.input_tokens" in span.attributes) is legacy
    assert span.attributes["gen_ai.usage.cache_write.input_tokens"] == 3
    (point,) = histogram_points(otel.metrics()["gen_ai.client.operation.duration"])
    assert ("gen_ai.system" in point.attributes) is legacy


async def test_gemini_stream_is_generate_content_of_gcp_gen_ai(otel: Otel) -> None:
    tracker = TokenTracker()
    otel.instrument(tracker, spans="client")
    fake = FakeLLM([FakeReply("Paris.", reasoning_tokens=5)])
    options = genai_types.HttpOptions(httpx_client=tracker.httpx_client(transport=fake))
    client = genai.Client(api_key="fake-key", http_options=options)
    await collect(
        client.models.generate_content_stream(model="gemini-2.5-flash", contents="Capital?")
    )
    record = tracker.last_record
    assert record is not None and record.stream and record.first_chunk_ms is not None
    (span,) = otel.spans()
    assert span.name == "generate_content gemini-2.5-flash"
    assert span.attributes is not None
    assert span.attributes["gen_ai.operation.name"] == "generate_content"
    assert span.attributes["gen_ai.provider.name"] == "gcp.gen_ai"
    assert span.attributes["gen_ai.usage.reasoning.output_tokens"] == 5
    assert span.attributes["gen_ai.usage.output_tokens"] == record.output_tokens
    metrics = otel.metrics()
    assert by_token_type(metrics["gen_ai.client.token.usage"])["output"].sum == record.output_tokens
    (first,) = histogram_points(metrics["gen_ai.client.operation.time_to_first_chunk"])
    assert first.attributes["gen_ai.operation.name"] == "generate_content"


@given(
    kind=st.sampled_from(["ReadTimeout", "ConnectError", "cancelled", "abandoned", "my error"]),
    text=st.text(min_size=1, max_size=40).filter(lambda t: t.strip() != ""),
    tags=st.dictionaries(st.sampled_from(["feature", "user"]), st.text(max_size=8)),
)
def test_a_failed_calls_error_text_never_goes_out(
    kind: str, text: str, tags: dict[str, str]
) -> None:
    """Only the error's class leaves (an identifier, else ``_OTHER``), never its message."""
    failed = record(status=None, error=f"{kind}: sk-SECRET {text}", tags=tags)
    attributes = span_attributes(failed, ("feature",), legacy=True)
    assert attributes["error.type"] == (kind if kind.isidentifier() else "_OTHER")
    assert not any("sk-SECRET" in str(value) for value in attributes.values())
    assert ("tokenbudget.tag.feature" in attributes) is ("feature" in tags)
    assert "tokenbudget.tag.user" not in attributes
