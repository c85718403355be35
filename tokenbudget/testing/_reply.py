"""Scripted replies: what the fake model says next, and with which usage or error."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from ._request import FakeRequest

__all__ = ["FakeReply", "ReplyFunction", "ReplyScript", "ScriptedReply", "default_text"]

#: When the scripted replies run out: answer an error, repeat the last one, or start over.
Exhausted: TypeAlias = Literal["error", "repeat", "cycle"]

_SNIPPET = 60


@dataclass(frozen=True)
class FakeReply:
    """One answer of the fake model: its text, or an error, and usage adjustments.

    Token counts are computed from the request and the text with the library's
    tokenizer; the fields below adjust them the way each API reports them.

    Args:
        text: what the model says; ``None`` gives the default echo
            (``"This is a fake reply to: <last user text>"``).
        status: an HTTP status; 400 and above answers an error in the
            provider's own error format (e.g. 429 makes the SDK raise its
            ``RateLimitError``) instead of a reply.
        error_message, error_type, error_code: the error's message, the
            provider's error type (OpenAI ``type``, Anthropic ``error.type``,
            Gemini ``status``) and OpenAI's ``code``; defaults fit ``status``.
        headers: extra response headers (``retry-after``, ...).
        input_tokens: report this many prompt tokens instead of counting them.
        output_tokens: report this many output tokens (reasoning included)
            instead of the tokens of ``text`` plus ``reasoning_tokens``.
        reasoning_tokens: hidden reasoning tokens, billed as output (OpenAI
            ``reasoning_tokens``, Gemini ``thoughtsTokenCount``, Anthropic:
            added to ``output_tokens``).
        cached_tokens: how many prompt tokens were read from the prompt cache
            (OpenAI ``cached_tokens``, Anthropic ``cache_read_input_tokens``,
            Gemini ``cachedContentTokenCount``); capped at the prompt size.
        cache_write_tokens: how many prompt tokens were written to the cache
            (Anthropic ``cache_creation_input_tokens``, OpenAI Responses
            ``cache_write_tokens``); ``cache_write_1h_tokens`` of them with the
            1-hour lifetime (Anthropic).
        finish_reason: the provider's own finish/stop reason, instead of the
            natural one (``stop``/``end_turn``/``STOP``, or the length one
            when ``max_tokens`` cut the text).
        model: the model the response names, e.g. a dated snapshot
            (``"gpt-4o-2024-08-06"``); default: the requested model.
    """

    text: str | None = None
    status: int = 200
    error_message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    finish_reason: str | None = None
    model: str | None = None

    @property
    def is_error(self) -> bool:
        """True when this reply answers an HTTP error."""
        return self.status >= 400


#: A reply callable: gets the request, returns the text or a :class:`FakeReply`.
ReplyFunction: TypeAlias = Callable[[FakeRequest], str | FakeReply]
#: One scripted reply: text, a :class:`FakeReply`, or an exception to raise.
ScriptedReply: TypeAlias = str | FakeReply | BaseException


def default_text(request: FakeRequest) -> str:
    """The default reply: a short echo of the last user message."""
    snippet = " ".join(request.last_user_text.split())
    if not snippet:
        return "This is a fake reply."
    if len(snippet) > _SNIPPET:
        snippet = snippet[: _SNIPPET - 3].rstrip() + "..."
    return f"This is a fake reply to: {snippet}"


def _as_reply(value: str | FakeReply | BaseException) -> FakeReply | BaseException:
    if isinstance(value, (FakeReply, BaseException)):
        return value
    if isinstance(value, str):
        return FakeReply(text=value)
    raise TypeError(
        f"a FakeLLM reply must be a str, a FakeReply or an exception, not {type(value).__name__}"
    )


class ReplyScript:
    """Hands out replies in order, thread-safely; see :class:`FakeLLM` for the rules."""

    def __init__(
        self,
        replies: Iterable[ScriptedReply] | None,
        reply: str | FakeReply | ReplyFunction | None,
        when_exhausted: Exhausted,
    ) -> None:
        if replies is not None and reply is not None:
            raise ValueError("give FakeLLM either replies=[...] or reply=..., not both")
        if when_exhausted not in ("error", "repeat", "cycle"):
            raise ValueError(
                f"when_exhausted must be 'error', 'repeat' or 'cycle', not {when_exhausted!r}"
            )
        if isinstance(replies, (str, FakeReply)):
            raise TypeError("replies must be a list of replies; for one fixed reply use reply=")
        self._replies = None if replies is None else [_as_reply(item) for item in replies]
        if self._replies == []:
            raise ValueError("replies=[] leaves nothing to answer with; give at least one")
        self._function: ReplyFunction | None = None
        self._fixed: FakeReply | BaseException = FakeReply()
        if callable(reply):
            self._function = reply
        elif reply is not None:
            self._fixed = _as_reply(reply)
        self._when_exhausted = when_exhausted
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """How many scripted replies were handed out."""
        return self._used

    def rewind(self) -> None:
        """Start the scripted replies over."""
        with self._lock:
            self._used = 0

    def next(self, request: FakeRequest, *, generates: bool) -> FakeReply | BaseException:
        """The reply to ``request``.

        Scripted ``replies`` answer only generating requests (chat, responses,
        completions, messages, generateContent); a reply callable is called for
        every request and may answer errors for embeddings or token counts too.
        """
        if self._function is not None:
            return _as_reply(self._function(request))
        if self._replies is None or not generates:
            return self._fixed
        with self._lock:
            position = self._used
            self._used += 1
        count = len(self._replies)
        if position < count:
            return self._replies[position]
        if self._when_exhausted == "repeat":
            return self._replies[-1]
        if self._when_exhausted == "cycle":
            return self._replies[position % count]
        return FakeReply(
            status=500,
            error_message=(
                f"tokenbudget.testing.FakeLLM: all {count} scripted replies were used; "
                f"request #{position + 1} ({request.provider} {request.endpoint}) has none. "
                "Give more replies, or when_exhausted='repeat' or 'cycle'."
            ),
            headers={"x-should-retry": "false"},
        )
