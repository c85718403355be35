"""The OpenAI package's public seams: its exported names, and prompt counting.

The prompt-counting functions are what the provider's pre-flight estimate uses
and what the fake OpenAI API of :mod:`tokenbudget.testing` reports, so each is
checked against the provider's own ``estimate_input_tokens``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import tokenbudget.providers.anthropic
import tokenbudget.providers.google
import tokenbudget.providers.openai
from tokenbudget.providers import RequestView, count_text_tokens
from tokenbudget.providers.openai import (
    OpenAIProvider,
    azure_deployment,
    count_chat_prompt,
    count_prompt,
    count_responses_prompt,
    message_text,
)

MODEL = "gpt-4o"


def tokens(text: str) -> int:
    return count_text_tokens(text, MODEL)[0]


def estimate(path: str, body: dict[str, Any]) -> int:
    request = RequestView("POST", "api.openai.com", path, body=json.dumps(body).encode())
    provider = OpenAIProvider()
    endpoint = provider.match(request)
    assert endpoint is not None
    return provider.estimate_input_tokens(endpoint, request)


@pytest.mark.parametrize(
    "package",
    [tokenbudget.providers.openai, tokenbudget.providers.anthropic, tokenbudget.providers.google],
)
def test_a_provider_package_exports_only_public_names_that_exist(package: Any) -> None:
    for name in package.__all__:
        assert not name.startswith("_"), name
        assert getattr(package, name) is not None, name


def test_chat_prompt_follows_openais_recipe() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "name": "ada", "content": [{"type": "text", "text": "Hi"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"function": {"name": "lookup", "arguments": '{"q": "x"}'}}],
        },
    ]
    expected = 3 + 3 * 3
    expected += tokens("system") + tokens("Be brief.")
    expected += tokens("user") + tokens("Hi") + 1 + tokens("ada")
    expected += tokens("assistant") + tokens("lookup") + tokens('{"q": "x"}')

    assert count_chat_prompt(messages, MODEL) == expected
    assert estimate("/v1/chat/completions", {"model": MODEL, "messages": messages}) == expected
    assert count_chat_prompt("not a list", MODEL) == 0


@pytest.mark.parametrize(
    ("instructions", "items", "expected"),
    [
        ("Be brief.", "Hi", tokens("Be brief.") + tokens("Hi") + 3),
        (None, "Hi", tokens("Hi") + 3),
        (
            None,
            [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}],
            3 + 3 + tokens("Hi"),
        ),
        ("Be brief.", None, tokens("Be brief.")),
    ],
)
def test_responses_prompt_counts_instructions_and_input(
    instructions: Any, items: Any, expected: int
) -> None:
    assert count_responses_prompt(instructions, items, MODEL) == expected
    body = {"model": MODEL, "instructions": instructions, "input": items}
    assert estimate("/v1/responses", body) == expected


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Hello there", tokens("Hello there")),
        ([1, 2, 3], 3),
        (["Hello", "there"], tokens("Hello") + tokens("there")),
        ([[1, 2], "there"], 2 + tokens("there")),
        (None, 0),
    ],
)
def test_prompt_counts_strings_and_takes_token_lists_as_they_are(
    prompt: Any, expected: int
) -> None:
    assert count_prompt(prompt, MODEL) == expected
    assert estimate("/v1/completions", {"model": MODEL, "prompt": prompt}) == expected
    assert estimate("/v1/embeddings", {"model": MODEL, "input": prompt}) == expected


def test_message_text_joins_the_text_parts() -> None:
    content = [
        {"type": "text", "text": "a"},
        {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}},
        {"type": "input_text", "input_text": "b"},
        {"type": "output_text", "output_text": "c"},
    ]
    assert message_text(content) == "abc"
    assert message_text("plain") == "plain"
    assert message_text(None) == ""


def test_azure_deployment_is_read_from_the_path() -> None:
    path = "/openai/deployments/my-gpt4o/chat/completions"
    assert azure_deployment(path) == "my-gpt4o"
    assert azure_deployment("/v1/chat/completions") is None
    request = RequestView("POST", "x.openai.azure.com", path, body=b'{"messages": []}')
    endpoint = OpenAIProvider("azure").match(request)
    assert endpoint is not None and endpoint.request_model == "my-gpt4o"
