"""A ``wrap_*`` copy shares its original's transport: dropping the original must not close it."""

from __future__ import annotations

import gc
from typing import Any

import httpx2
import openai

import tokenbudget
from tokenbudget.testing import FakeLLM


class _ClosingClient(httpx2.Client):
    """Closes itself when collected, as the SDKs' default http clients do (``__del__``)."""

    def __del__(self) -> None:
        self.close()


_closed: list[object] = []


class _Watched(FakeLLM):
    def close(self) -> None:
        _closed.append(self)


def test_dropping_the_wrapped_client_leaves_the_copys_transport_open() -> None:
    fake: Any = _Watched()
    tracker = tokenbudget.TokenTracker()
    original = openai.OpenAI(api_key="k", http_client=_ClosingClient(transport=fake))
    copy = tracker.wrap_openai(original)
    del original
    gc.collect()
    assert _closed == []
    copy.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert (tracker.usage.calls, fake.calls) == (1, 1)
    del copy
    gc.collect()
    assert _closed == [fake]  # both gone: the original closes it then
