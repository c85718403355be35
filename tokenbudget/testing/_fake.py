"""``FakeLLM``: a fake OpenAI, Anthropic and Gemini API living in an httpx transport."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from .._adapters import get_family
from ._anthropic import AnthropicFake
from ._gemini import GeminiFake
from ._httpx import RawRequest, bind_family, read_async, read_sync, to_response
from ._openai import OpenAIFake
from ._reply import Exhausted, FakeReply, ReplyFunction, ReplyScript, ScriptedReply
from ._request import FakeRequest
from ._wire import Answer, Context, FakeProvider, Ids, Route

__all__ = ["DEFAULT_CREATED", "FakeLLM"]

#: The ``created`` time of every answer unless a ``clock`` is given: 2026-01-01T00:00:00Z.
DEFAULT_CREATED = 1_767_225_600

_GEMINI, _ANTHROPIC, _OPENAI = GeminiFake(), AnthropicFake(), OpenAIFake()
_PROVIDERS: tuple[FakeProvider, ...] = (_GEMINI, _ANTHROPIC, _OPENAI)


def _guess_provider(raw: RawRequest) -> FakeProvider:
    """Whose error format a request for an unknown path gets."""
    last = raw.path.rsplit("/", 1)[-1]
    if ":" in last or "/v1beta/" in raw.path or "x-goog-api-key" in raw.headers:
        return _GEMINI
    if "anthropic-version" in raw.headers or "x-api-key" in raw.headers:
        return _ANTHROPIC
    return _OPENAI


def _parse(content: bytes) -> tuple[Any, bool]:
    """The body as JSON, and whether it was valid (an empty body is)."""
    if not content:
        return None, True
    try:
        return json.loads(content), True
    except ValueError:
        return None, False


class _Core:
    """The state one FakeLLM shares with its :meth:`FakeLLM.with_family` views."""

    def __init__(
        self,
        script: ReplyScript,
        chunk_size: int,
        clock: Callable[[], float] | None,
    ) -> None:
        self.script = script
        self.chunk_size = chunk_size
        self.clock = clock
        self.ids = Ids()
        self.lock = threading.Lock()
        self.requests: list[FakeRequest] = []

    def _record(
        self, raw: RawRequest, body: Any, provider: FakeProvider, route: Route | None
    ) -> FakeRequest:
        messages = provider.messages(route, body) if route is not None else ()
        with self.lock:
            request = FakeRequest(
                provider=provider.name,
                endpoint=route.endpoint if route is not None else "unknown",
                model=route.model if route is not None else None,
                stream=route.stream if route is not None else False,
                method=raw.method,
                url=raw.url,
                headers=raw.headers,
                body=body,
                content=raw.content,
                messages=messages,
                index=len(self.requests),
            )
            self.requests.append(request)
        return request

    def respond(self, raw: RawRequest) -> Answer | BaseException:
        """The answer to one request (or the exception a scripted reply raises)."""
        body, valid = _parse(raw.content)
        route: Route | None = None
        provider = _guess_provider(raw)
        if raw.method == "POST":
            for candidate in _PROVIDERS:
                route = candidate.route(raw.path, raw.query, body)
                if route is not None:
                    provider = candidate
                    break
        request = self._record(raw, body, provider, route)
        created = int(self.clock()) if self.clock is not None else DEFAULT_CREATED
        ctx = Context(self.ids, created, self.chunk_size)
        if route is None:
            return provider.error(404, ctx, message=f"Invalid URL ({raw.method} {raw.path})")
        if not valid or not isinstance(body, Mapping):
            message = "We could not parse the JSON body of your request."
            return provider.error(400, ctx, message=message)
        if route.model is None:
            return provider.error(400, ctx, message="You must provide a model parameter.")
        reply = self.script.next(request, generates=route.generates)
        if isinstance(reply, BaseException):
            return reply
        if reply.is_error:
            return provider.error(
                reply.status,
                ctx,
                message=reply.error_message,
                error_type=reply.error_type,
                error_code=reply.error_code,
                headers=reply.headers,
            )
        answer = provider.answer(request, reply, ctx)
        if reply.headers:
            answer = Answer(answer.status, (*answer.headers, *reply.headers.items()), answer.chunks)
        return answer


class FakeLLM:
    """A fake LLM provider: an httpx transport that answers like the real APIs.

    Put it under any SDK's http client, directly or inside a tracker's client::

        fake = FakeLLM(replies=["Hello!", "Bye."])
        tracker = TokenTracker()
        client = openai.OpenAI(api_key="sk-fake", http_client=tracker.httpx_client(transport=fake))
        client.chat.completions.create(model="gpt-4o", messages=[...])  # says "Hello!"

    It answers, at any host, OpenAI chat completions, Responses, legacy
    completions and embeddings (also Azure deployment paths), Anthropic
    messages and token counts, and Gemini ``generateContent``,
    ``streamGenerateContent``, ``embedContent``, ``batchEmbedContents`` and
    ``countTokens``, as JSON or streamed, in each API's wire format, so the
    real SDKs parse every answer into their own types. Usage is computed from
    the request and the reply with tokenbudget's tokenizer. An unknown path
    gets a 404 in the provider's error format.

    **Replies.** ``replies=[...]`` are said in order by the requests that
    generate text (chat, responses, completions, messages, generateContent);
    each is a string, a :class:`FakeReply` (errors, usage adjustments) or an
    exception to raise from the transport. When they run out,
    ``when_exhausted`` decides: ``"error"`` (default) answers an HTTP 500 that
    says so (marked not to be retried), ``"repeat"`` repeats the last reply,
    ``"cycle"`` starts over. ``reply=`` is one fixed reply, or a callable given
    the :class:`FakeRequest` of *every* request (embeddings and token counts
    too) and returning a string or a :class:`FakeReply`. With neither, the
    model says ``"This is a fake reply to: <last user message>"``.

    **Usage.** Prompt tokens are counted with tokenbudget's tokenizer
    (``count_text_tokens(text, model)``): for OpenAI exactly as the
    library's own estimator counts them (chat: OpenAI's documented 3 tokens
    per message plus role and content, and 3 to prime the reply); for
    Anthropic and Gemini, the sum of the counts of ``request.messages`` texts.
    Output tokens are the count of the reply text plus ``reasoning_tokens``.
    A request's output limit (``max_tokens``, ``max_completion_tokens``,
    ``max_output_tokens``, ``maxOutputTokens``; legacy completions default to
    16) cuts the reply at a word, with the API's length finish reason.

    **Families.** httpx and httpx2 clients need transports of their own
    family, and tokenbudget's ``tracker.httpx_client(transport=...)`` builds
    the client of the transport's family. So ``FakeLLM()`` is an instance of
    a subclass bound to one family: ``family="httpx2"`` (the default when
    httpx2 is installed, as current SDKs need) or ``family="httpx"``. It is
    both a sync and an async transport, for ``Client`` and ``AsyncClient``
    alike, and answers in the family of each request it gets.
    :meth:`with_family` gives a twin of the other family sharing the same
    replies and request log.

    Args:
        replies: the scripted replies, in order.
        reply: one fixed reply, or a callable making each reply.
        family: ``"httpx2"`` or ``"httpx"``; default: httpx2 when installed.
        when_exhausted: ``"error"``, ``"repeat"`` or ``"cycle"`` (see above).
        chunk_size: words per streamed text delta.
        clock: a callable giving the Unix time answers are created at;
            default: always :data:`DEFAULT_CREATED`, so answers are identical
            run after run (ids come from per-fake counters).
    """

    family: ClassVar[str] = ""
    """The httpx family this fake is a transport of: ``"httpx"`` or ``"httpx2"``."""

    _core: _Core

    def __new__(
        cls,
        replies: Iterable[ScriptedReply] | None = None,
        *,
        reply: str | FakeReply | ReplyFunction | None = None,
        family: str | None = None,
        when_exhausted: Exhausted = "error",
        chunk_size: int = 1,
        clock: Callable[[], float] | None = None,
    ) -> FakeLLM:
        # Same signature as __init__ (so that help() and IDEs show it); only
        # ``family`` matters here: it picks the family-bound class to build.
        instance: FakeLLM = super().__new__(cls._bound(family))
        return instance

    def __init__(
        self,
        replies: Iterable[ScriptedReply] | None = None,
        *,
        reply: str | FakeReply | ReplyFunction | None = None,
        family: str | None = None,
        when_exhausted: Exhausted = "error",
        chunk_size: int = 1,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
        self._core = _Core(ReplyScript(replies, reply, when_exhausted), chunk_size, clock)

    @classmethod
    def _bound(cls, family: str | None) -> type[FakeLLM]:
        if cls.family:  # already a family-bound class
            if family not in (None, cls.family):
                raise ValueError(f"this FakeLLM class is bound to {cls.family!r}, not {family!r}")
            return cls
        chosen = get_family(family)
        bound: type[FakeLLM] = bind_family(cls, chosen.name, chosen.module)
        return bound

    def __repr__(self) -> str:
        return f"<FakeLLM family={self.family!r} calls={self.calls}>"

    # -- what it saw -------------------------------------------------------------------

    @property
    def requests(self) -> list[FakeRequest]:
        """Every request received so far, oldest first (also unknown paths and errors)."""
        with self._core.lock:
            return list(self._core.requests)

    @property
    def calls(self) -> int:
        """How many requests were received."""
        return len(self._core.requests)

    @property
    def last_request(self) -> FakeRequest | None:
        """The most recent request, or ``None``."""
        with self._core.lock:
            return self._core.requests[-1] if self._core.requests else None

    def reset(self) -> None:
        """Forget the requests, start the scripted replies and the ids over."""
        with self._core.lock:
            self._core.requests.clear()
        self._core.script.rewind()
        self._core.ids.reset()

    def with_family(self, family: str) -> FakeLLM:
        """This fake as a transport of ``family``, sharing replies and the request log."""
        unbound: type[FakeLLM] = type(self).__mro__[1]
        twin: FakeLLM = object.__new__(unbound._bound(family))
        twin._core = self._core
        return twin

    # -- transport ---------------------------------------------------------------------

    def handle_request(self, request: Any) -> Any:
        """Answer an httpx/httpx2 request (the sync transport API)."""
        answer = self._core.respond(read_sync(request))
        if isinstance(answer, BaseException):
            raise answer
        return to_response(request, answer)

    async def handle_async_request(self, request: Any) -> Any:
        """Answer an httpx/httpx2 request (the async transport API)."""
        answer = self._core.respond(await read_async(request))
        if isinstance(answer, BaseException):
            raise answer
        return to_response(request, answer)

    def close(self) -> None:
        """Nothing to release."""

    async def aclose(self) -> None:
        """Nothing to release."""
