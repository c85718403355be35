"""Counting an OpenAI request's prompt tokens locally, before it is sent.

These counts are tokenbudget's pre-flight estimate of a request's input (what a
budget reserves). They follow OpenAI's documented recipe for chat (a few tokens
of framing per message) and count every other prompt as its plain text. They
are public so that :mod:`tokenbudget.testing`'s fake OpenAI API reports exactly
the prompt tokens the estimator expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._tokens import count_text_tokens

__all__ = ["count_chat_prompt", "count_prompt", "count_responses_prompt", "message_text"]


def _count(text: Any, model: str | None) -> int:
    return count_text_tokens(text, model)[0] if isinstance(text, str) else 0


def message_text(content: Any) -> str:
    """The text of a message's ``content``: the string, or its text parts joined.

    Parts may name their text ``text``, ``input_text`` or ``output_text``; other
    parts (images, audio, files) add nothing.
    """
    if isinstance(content, str):
        return content
    parts = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, Mapping):
                text = part.get("text") or part.get("input_text") or part.get("output_text")
                if isinstance(text, str):
                    parts.append(text)
    return "".join(parts)


def count_chat_prompt(messages: Any, model: str | None) -> int:
    """Prompt tokens of a chat completions request's ``messages``.

    OpenAI's documented count: 3 tokens per message, 1 per name, 3 to prime the
    reply, plus the tokens of each role, text, name and tool call.
    """
    if not isinstance(messages, list):
        return 0
    total = 3
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        total += 3
        total += _count(message.get("role"), model)
        total += _count(message_text(message.get("content")), model)
        if isinstance(message.get("name"), str):
            total += 1 + _count(message["name"], model)
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                total += _count(function.get("name"), model)
                total += _count(function.get("arguments"), model)
    return total


def count_responses_prompt(instructions: Any, items: Any, model: str | None) -> int:
    """Prompt tokens of a Responses request: its ``instructions`` and ``input``.

    ``input`` is a string or a list of items; each item counts 3 tokens of framing
    plus its text, tool output and tool arguments, and the input 3 more.
    """
    total = _count(instructions, model)
    if isinstance(items, str):
        return total + _count(items, model) + 3
    if not isinstance(items, list):
        return total
    total += 3
    for item in items:
        if isinstance(item, Mapping):
            total += 3 + _count(message_text(item.get("content")), model)
            total += _count(item.get("output"), model) + _count(item.get("arguments"), model)
    return total


def count_prompt(prompt: Any, model: str | None) -> int:
    """Prompt tokens of a legacy completions ``prompt`` or an embeddings ``input``.

    Strings are counted; lists of ints are already tokens; lists of either are summed.
    """
    if isinstance(prompt, str):
        return _count(prompt, model)
    if isinstance(prompt, list):
        if all(isinstance(item, int) for item in prompt):
            return len(prompt)
        return sum(count_prompt(item, model) for item in prompt)
    return 0
