"""Which requests make a model reason: decided from the request, then the model's name."""

from __future__ import annotations

from typing import Any

import pytest

from tokenbudget.providers._reasoning import reasons


@pytest.mark.parametrize(
    ("model", "body", "expected"),
    [
        ("o4-mini", {}, True),
        ("o1", {}, True),
        ("o3-mini-2025-01-31", {}, True),
        ("gpt-5", {}, True),
        ("openai/gpt-5-mini", {}, True),
        ("gpt-5-chat-latest", {}, False),
        ("gpt-4o", {}, False),
        ("gpt-4o", {"reasoning_effort": "low"}, True),
        ("gpt-5", {"reasoning_effort": "none"}, False),
        ("gpt-5", {"reasoning": {"effort": "none"}}, False),
        ("claude-sonnet-4-6", {}, False),
        ("claude-sonnet-4-6", {"thinking": {"type": "enabled", "budget_tokens": 2048}}, True),
        ("claude-sonnet-4-6", {"thinking": {"type": "disabled"}}, False),
        ("gemini-2.5-pro", {}, True),
        (
            "gemini-2.5-flash",
            {"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}},
            False,
        ),
        ("gemini-2.5-flash-lite", {}, False),
        ("gemini-2.0-flash", {}, False),
        (
            "gemini-2.0-flash",
            {"generationConfig": {"thinkingConfig": {"thinkingBudget": 512}}},
            True,
        ),
        ("deepseek-reasoner", {}, True),
        ("deepseek-chat", {}, False),
        ("grok-3-mini", {}, True),
        ("grok-4-fast-non-reasoning", {}, False),
        (None, {}, False),
        ("o4-mini", "not a body", True),
    ],
)
def test_reasoning_is_read_off_the_request(model: str | None, body: Any, expected: bool) -> None:
    assert reasons(model, body) is expected
