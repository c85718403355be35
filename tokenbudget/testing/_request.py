"""What :class:`~tokenbudget.testing.FakeLLM` saw: one received request, read once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["FakeRequest", "Message"]


class Message(NamedTuple):
    """One message of a prompt, reduced to its role and its text.

    Roles are normalised across providers: ``system`` (OpenAI system/developer
    messages and Responses ``instructions``, Anthropic ``system``, Gemini
    ``systemInstruction``), ``user``, ``assistant`` (Gemini's ``model``) and
    ``tool`` (tool and function results).
    """

    role: str
    text: str


@dataclass(frozen=True)
class FakeRequest:
    """A request received by a :class:`~tokenbudget.testing.FakeLLM`.

    This is also what a reply callable (``FakeLLM(reply=fn)``) is called with.
    """

    provider: str
    """``"openai"``, ``"anthropic"`` or ``"gemini"`` (the guess, for an unknown path)."""
    endpoint: str
    """``chat``, ``responses``, ``completions``, ``embeddings`` (OpenAI);
    ``messages``, ``count_tokens`` (Anthropic); ``generate_content``,
    ``stream_generate_content``, ``embed_content``, ``batch_embed_contents``,
    ``count_tokens`` (Gemini); ``unknown`` for a path no API has."""
    model: str | None
    """The model the request names (for Azure, the deployment when the body has none)."""
    stream: bool
    """True when the request asked for a streamed answer."""
    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    """Request headers, names in lower case."""
    body: Any = field(repr=False)
    """The request body parsed as JSON (``None`` when it is not JSON)."""
    content: bytes = field(repr=False)
    """The raw request body."""
    messages: tuple[Message, ...] = field(default=(), repr=False)
    """The prompt as messages (embeddings: one ``user`` message per input text)."""
    index: int = 0
    """Position of this request among all those the FakeLLM received, from 0."""

    @property
    def prompt(self) -> str:
        """The text of every message, one per line."""
        return "\n".join(message.text for message in self.messages)

    @property
    def last_user_text(self) -> str:
        """The text of the last ``user`` message, or ``""``."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return ""
