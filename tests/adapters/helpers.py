"""Helpers of the adapter tests: answers whose body comes in pieces, and may fail on the way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import openai

from tokenbudget import TokenTracker

from ..support import async_client, module, sync_client

MESSAGES = [{"role": "user", "content": "Hi"}]


def split(data: bytes, size: int) -> list[bytes]:
    """``data`` in pieces of ``size`` bytes."""
    return [data[i : i + size] for i in range(0, len(data), size)]


class Pieces:
    """A sync and async body of fixed pieces that may raise at a chosen point.

    ``fail_at`` is the index of the piece whose read raises ``error``;
    ``close_error`` is raised by ``close``/``aclose``. Counts its closes.
    """

    def __init__(
        self,
        pieces: Sequence[bytes],
        *,
        fail_at: int | None = None,
        error: BaseException | None = None,
        close_error: BaseException | None = None,
    ) -> None:
        self.pieces = pieces
        self.fail_at = fail_at
        self.error = error
        self.close_error = close_error
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        for index, piece in enumerate(self.pieces):
            if index == self.fail_at:
                assert self.error is not None
                raise self.error
            yield piece

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self:
            yield piece

    def close(self) -> None:
        self.closed += 1
        if self.close_error is not None:
            raise self.close_error

    async def aclose(self) -> None:
        self.close()


def streamed(family: str, body: Pieces, content_type: str = "text/event-stream") -> Any:
    """A mock-transport handler answering 200 with ``body`` as the response stream."""
    mod = module(family)

    class Stream(mod.SyncByteStream, mod.AsyncByteStream):  # type: ignore[misc,name-defined]
        def __iter__(self) -> Iterator[bytes]:
            return iter(body)

        def __aiter__(self) -> AsyncIterator[bytes]:
            return body.__aiter__()

        def close(self) -> None:
            body.close()

        async def aclose(self) -> None:
            await body.aclose()

    def handler(request: Any) -> Any:
        return mod.Response(200, headers={"content-type": content_type}, stream=Stream())

    return handler


def openai_client(tracker: TokenTracker, family: str, mode: str, handler: Any) -> Any:
    """An openai client (``mode``: sync or async) over a tracked mock transport of ``family``."""
    if mode == "async":
        http = async_client(tracker, family, handler)
        return openai.AsyncOpenAI(api_key="sk-test", http_client=http, max_retries=0)
    http = sync_client(tracker, family, handler)
    return openai.OpenAI(api_key="sk-test", http_client=http, max_retries=0)
