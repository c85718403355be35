"""Local token counting, and its fallback when tiktoken cannot load an encoding."""

from __future__ import annotations

from typing import Any

import pytest

from tokenbudget.providers import _tokens, count_text_tokens, encoding_name_for_model


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("gpt-5.1", "o200k_base"),
        ("openai/gpt-4.1", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("claude-sonnet-4-5", "cl100k_base"),
        (None, "cl100k_base"),
    ],
)
def test_encoding_choice(model: str | None, encoding: str) -> None:
    assert encoding_name_for_model(model) == encoding


def test_exact_counts_with_the_real_encodings() -> None:
    assert count_text_tokens("Hello! How can I help you today?", "gpt-4o") == (9, False)
    assert count_text_tokens("Hello! How can I help you today?", "gpt-4") == (9, False)
    assert count_text_tokens("", "gpt-4o") == (0, False)


def test_fallback_when_encodings_cannot_load(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import tiktoken

    def offline(name: str) -> Any:
        raise OSError("no network")

    monkeypatch.setattr(tiktoken, "get_encoding", offline)
    monkeypatch.setattr(_tokens, "_encodings", {})
    monkeypatch.setattr(_tokens, "_failed", set())

    assert count_text_tokens("x" * 10, "gpt-4o") == (3, True)
    assert count_text_tokens("x" * 10, "gpt-4o") == (3, True)
    assert caplog.text.count("could not be loaded") == 1, "warned once per encoding"
