"""The three SDKs behind one small interface, for cache tests run over each of them.

Every SDK call goes through a tracked client over a :class:`FakeLLM`; results are
returned as ``model_dump()`` data (a list of them for a stream) so a replayed
answer can be compared with the original.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass
from typing import Any

import anthropic
import openai
from google import genai
from google.genai import types

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM

from ..support import collect, resolve

#: (sdk, httpx family) pairs each SDK accepts: anthropic 2.x takes httpx2 only.
CASES = [
    ("openai", "httpx2"),
    ("openai", "httpx"),
    ("anthropic", "httpx2"),
    ("gemini", "httpx2"),
    ("gemini", "httpx"),
]
MODELS = {"openai": "gpt-4o", "anthropic": "claude-sonnet-4-6", "gemini": "gemini-2.5-flash"}
OTHER_MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "gemini": "gemini-2.5-pro",
}
KEYS = {
    "openai": "sk-proj-SECRET0001",
    "anthropic": "sk-ant-SECRET0001",
    "gemini": "AIzaSECRET0001",
}


@dataclass
class SDK:
    """One SDK client (sync or async) over a tracked client and a fake server."""

    name: str
    mode: str
    tracker: TokenTracker
    fake: FakeLLM
    client: Any

    @property
    def model(self) -> str:
        return MODELS[self.name]

    async def call(
        self, text: str = "Hi", *, stream: bool = False, model: str | None = None
    ) -> Any:
        """Ask ``text``; the answer as ``model_dump()`` data."""
        model = model or self.model
        if self.name == "openai":
            messages = [{"role": "user", "content": text}]
            result = await resolve(
                self.client.chat.completions.create(model=model, messages=messages, stream=stream)
            )
        elif self.name == "anthropic":
            messages = [{"role": "user", "content": text}]
            result = await resolve(
                self.client.messages.create(
                    model=model, max_tokens=64, messages=messages, stream=stream
                )
            )
        else:
            models = self.client.aio.models if self.mode == "async" else self.client.models
            method = models.generate_content_stream if stream else models.generate_content
            result = await resolve(method(model=model, contents=text))
        if stream:
            return [item.model_dump() for item in await collect(result)]
        return result.model_dump()

    async def abandon(self, text: str = "Hi") -> None:
        """Start a streamed call, read one item, close the stream."""
        if self.name == "gemini" and self.mode == "async":
            recorded = self.tracker.usage.calls
            await self._abandon_gemini_async(text)
            # genai nests async generators: closing the outer one leaves the inner
            # ones (and the response) to the event loop's async-generator finalizer,
            # which closes one level of nesting per collection.
            for _ in range(10):
                if self.tracker.usage.calls > recorded:
                    break
                gc.collect()
                await asyncio.sleep(0)
            return
        if self.name == "gemini":
            chunks = self.client.models.generate_content_stream(model=self.model, contents=text)
            next(chunks)
            chunks.close()
            return
        messages = [{"role": "user", "content": text}]
        if self.name == "openai":
            made = self.client.chat.completions.create(
                model=self.model, messages=messages, stream=True
            )
        else:
            made = self.client.messages.create(
                model=self.model, max_tokens=64, messages=messages, stream=True
            )
        stream = await resolve(made)
        if self.mode == "async":
            await stream.__aiter__().__anext__()
            await stream.close()
        else:
            next(iter(stream))
            stream.close()

    async def _abandon_gemini_async(self, text: str) -> None:
        models = self.client.aio.models
        stream = await models.generate_content_stream(model=self.model, contents=text)
        await stream.__anext__()
        await stream.aclose()


def make_client(
    name: str, family: str, mode: str, tracker: TokenTracker, fake: FakeLLM, api_key: str
) -> Any:
    """An SDK client of ``name`` on ``tracker``'s client (of ``family``) over ``fake``."""
    if fake.family != family:
        fake = fake.with_family(family)
    if name == "gemini":
        options = types.HttpOptions(
            httpx_client=tracker.httpx_client(transport=fake),
            httpx_async_client=tracker.async_httpx_client(transport=fake),
        )
        return genai.Client(api_key=api_key, http_options=options)
    http = (
        tracker.async_httpx_client(transport=fake)
        if mode == "async"
        else tracker.httpx_client(transport=fake)
    )
    if name == "openai":
        cls: Any = openai.AsyncOpenAI if mode == "async" else openai.OpenAI
    else:
        cls = anthropic.AsyncAnthropic if mode == "async" else anthropic.Anthropic
    return cls(api_key=api_key, http_client=http, max_retries=0)


def make_sdk(
    name: str,
    family: str,
    mode: str,
    tracker: TokenTracker,
    fake: FakeLLM | None = None,
    api_key: str | None = None,
) -> SDK:
    """An :class:`SDK` over ``fake`` (default: one that repeats a fixed reply)."""
    fake = fake or FakeLLM(reply="The capital of France is Paris.", family=family)
    client = make_client(name, family, mode, tracker, fake, api_key or KEYS[name])
    return SDK(name, mode, tracker, fake, client)
