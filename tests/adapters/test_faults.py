"""The inner transport failing at each step: the SDK sees what it sees without tokenbudget.

Each fault is injected twice, under a plain client and under a tracked one,
through the real openai SDK (sync and async, both httpx families): the
outcome the caller sees (the exception's type, its cause's type, the chunks
read) must be the same, exactly one record is made, its error says what
happened, and the budget's hold is released.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker, budget

from ..support import StubBook, fixture_bytes, mock_transport, module, resolve
from .helpers import MESSAGES, Pieces, split, streamed

STREAM = fixture_bytes("openai/chat_stream.sse")
CHAT = fixture_bytes("openai/chat.json")

#: Where the fault is injected.
STEPS = ["send", "first byte", "mid-stream", "close"]


@dataclass
class Fault:
    """One fault: the step it hits and the exception raised there."""

    step: str
    foreign: bool  # a plain Python error rather than the family's own transport error

    def error(self, family: str) -> BaseException:
        if self.foreign:
            return RuntimeError("injected")
        mod = module(family)
        if self.step == "send":
            return mod.ConnectError("connection refused")  # type: ignore[no-any-return]
        if self.step == "close":
            return mod.CloseError("close failed")  # type: ignore[no-any-return]
        return mod.ReadError("connection reset")  # type: ignore[no-any-return]

    def handler(self, family: str, stream: bool) -> Any:
        def handle(request: Any) -> Any:
            if self.step == "send":
                raise self.error(family)
            pieces = split(STREAM if stream else CHAT, 300)
            if self.step == "close":
                body = Pieces(pieces, close_error=self.error(family))
            else:
                at = 0 if self.step == "first byte" else 2
                body = Pieces(pieces, fail_at=at, error=self.error(family))
            content_type = "text/event-stream" if stream else "application/json"
            return streamed(family, body, content_type)(request)

        return handle


@dataclass
class Outcome:
    """What the caller saw."""

    raised: type[BaseException] | None
    cause: type[BaseException] | None
    chunks: int


async def call(client: Any, stream: bool) -> Outcome:
    chunks: list[Any] = []
    try:
        if stream:
            result = await resolve(
                client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=MESSAGES,
                    stream=True,
                    # Asked for by the caller: the answer is the same with and without tracking.
                    stream_options={"include_usage": True},
                )
            )
            if hasattr(result, "__aiter__"):
                async for chunk in result:
                    chunks.append(chunk)
            else:
                for chunk in result:
                    chunks.append(chunk)
        else:
            chunks.append(
                await resolve(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))
            )
    except Exception as exc:
        cause = exc.__cause__
        return Outcome(type(exc), type(cause) if cause is not None else None, len(chunks))
    return Outcome(None, None, len(chunks))


def sdk_client(http_client: Any, mode: str) -> Any:
    cls = openai.AsyncOpenAI if mode == "async" else openai.OpenAI
    return cls(api_key="sk-test", http_client=http_client, max_retries=0)


def plain_client(family: str, mode: str, handler: Any) -> Any:
    mod = module(family)
    transport = mock_transport(family, handler, is_async=mode == "async")
    return (
        mod.AsyncClient(transport=transport) if mode == "async" else mod.Client(transport=transport)
    )


def tracked_client(tracker: TokenTracker, family: str, mode: str, handler: Any) -> Any:
    transport = mock_transport(family, handler, is_async=mode == "async")
    if mode == "async":
        return tracker.async_httpx_client(family=family, transport=transport)
    return tracker.httpx_client(family=family, transport=transport)


@pytest.mark.parametrize("foreign", [False, True], ids=["transport-error", "foreign-error"])
@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
async def test_a_fault_reaches_the_sdk_unchanged_and_is_recorded_once(
    family: str, mode: str, step: str, foreign: bool, stream: bool
) -> None:
    fault = Fault(step, foreign)
    untracked = await call(
        sdk_client(plain_client(family, mode, fault.handler(family, stream)), mode), stream
    )

    tracker = TokenTracker(prices=StubBook())
    http = tracked_client(tracker, family, mode, fault.handler(family, stream))
    scope = budget(max_cost_usd=1, preflight="worst_case", default_max_output=1000)
    with scope:
        tracked = await call(sdk_client(http, mode), stream)

    assert tracked == untracked
    (record,) = tracker.records
    state = scope.state
    assert state.reserved.cost_usd == 0 and state.reserved.tokens == 0
    assert state.usage.calls == 1
    injected = fault.error(family)
    described = f"{type(injected).__name__}: {injected}"
    if step == "close":
        # The body was read whole before its close failed: the call itself succeeded.
        assert record.error is None and record.usage.input_tokens > 0
    else:
        assert record.error == described
        assert record.cost_usd == 0 if step == "send" else record.usage.estimated


# -- faults after the caller stopped reading, and cancellation -------------------------------


def finish_chunk() -> bytes:
    return STREAM.split(b"\n\n")[-4] + b"\n\n"  # the fixture's chunk with a finish_reason


@pytest.mark.parametrize("at", ["read", "close"])
async def test_a_fault_while_reading_the_tail_never_reaches_the_caller(
    family: str, mode: str, at: str
) -> None:
    """The caller closed at ``finish_reason``; the read for the usage chunk fails, or the close."""
    head = STREAM.split(b"\n\n")[0] + b"\n\n"
    assert b'"finish_reason":"stop"' in finish_chunk()

    def handler(request: Any) -> Any:
        error = module(family).ReadError("connection reset")
        if at == "read":
            body = Pieces([head, finish_chunk(), b"never read"], fail_at=2, error=error)
        else:
            body = Pieces([head, finish_chunk()], close_error=error)
        return streamed(family, body)(request)

    async def stop_at_finish_reason(client: Any) -> Outcome:
        try:
            stream = await resolve(
                client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=MESSAGES,
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )
            chunks = 0
            if mode == "async":
                async with stream:
                    async for chunk in stream:
                        chunks += 1
                        if chunk.choices[0].finish_reason:
                            break
            else:
                with stream:
                    for chunk in stream:
                        chunks += 1
                        if chunk.choices[0].finish_reason:
                            break
        except Exception as exc:
            return Outcome(type(exc), type(exc.__cause__) if exc.__cause__ else None, 0)
        return Outcome(None, None, chunks)

    untracked = await stop_at_finish_reason(sdk_client(plain_client(family, mode, handler), mode))
    tracker = TokenTracker(prices=StubBook())
    scope = budget(max_cost_usd=1, preflight="worst_case", default_max_output=1000)
    with scope:
        tracked = await stop_at_finish_reason(
            sdk_client(tracked_client(tracker, family, mode, handler), mode)
        )

    assert tracked == untracked
    (record,) = tracker.records
    # "read": the usage never came; "close": the body ended (without usage) before the close.
    assert record.error == ("abandoned" if at == "read" else None)
    assert record.usage.estimated
    assert scope.state.reserved.cost_usd == 0 and scope.state.usage.calls == 1


async def test_a_stream_cancelled_while_waiting_for_a_chunk_is_recorded_once(
    family: str,
) -> None:
    mod = module(family)
    first = STREAM.split(b"\n\n")[0] + b"\n\n"
    started = asyncio.Event()

    class Stalling(mod.AsyncByteStream):  # type: ignore[misc,name-defined]
        async def __aiter__(self) -> Any:
            yield first
            await asyncio.Event().wait()  # the provider stalls: only a cancel ends this
            yield b""  # pragma: no cover

    def handler(request: Any) -> Any:
        return mod.Response(200, headers={"content-type": "text/event-stream"}, stream=Stalling())

    async def read(client: Any) -> None:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        async for _ in stream:
            started.set()

    tracker = TokenTracker(prices=StubBook())
    scope = budget(max_cost_usd=1, preflight="worst_case", default_max_output=1000)
    with scope:
        task = asyncio.ensure_future(
            read(sdk_client(tracked_client(tracker, family, "async", handler), "async"))
        )
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    (record,) = tracker.records
    assert record.error == "cancelled" and record.usage.estimated
    assert scope.state.reserved.cost_usd == 0 and scope.state.usage.calls == 1
