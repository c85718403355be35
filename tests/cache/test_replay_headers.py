"""A replayed answer carries the header bytes the provider sent, whatever they are.

httpx keeps header values as bytes and decodes them only when asked; a replay
that rebuilt them from text would fail (``UnicodeEncodeError``) on any byte
outside ASCII, on every later hit. Tested through the real openai SDK, sync and
async, over each httpx family, for the memory and the disk cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from tokenbudget import TokenTracker

from ..support import fixture_bytes, module, resolve

#: UTF-8 text, a lone Latin-1 byte, a control-free obs-text byte: all legal in HTTP/1.1.
ODD_ID = b"req-\xc3\xa9t\xe9-\xff"


def odd_header_answer(family: str, calls: list[Any]) -> Any:
    def handler(request: Any) -> Any:
        calls.append(request)
        return module(family).Response(
            200,
            headers=[
                (b"content-type", b"application/json"),
                (b"x-request-id", ODD_ID),
                (b"openai-processing-ms", b"12"),
            ],
            content=fixture_bytes("openai/chat.json"),
        )

    return handler


@pytest.mark.parametrize("cache", ["memory", "disk"])
async def test_a_non_ascii_response_header_is_replayed_as_its_bytes(
    family: str, mode: str, cache: str, tmp_path: Path
) -> None:
    tracker = TokenTracker(cache=cache, cache_dir=tmp_path if cache == "disk" else None)
    calls: list[Any] = []
    handler = odd_header_answer(family, calls)
    if mode == "async":

        async def async_handler(request: Any) -> Any:
            return handler(request)

        transport = module(family).MockTransport(async_handler)
        http = tracker.async_httpx_client(family=family, transport=transport)
        client: Any = openai.AsyncOpenAI(api_key="sk-one", http_client=http, max_retries=0)
    else:
        transport = module(family).MockTransport(handler)
        http = tracker.httpx_client(family=family, transport=transport)
        client = openai.OpenAI(api_key="sk-one", http_client=http, max_retries=0)
    messages = [{"role": "user", "content": "Hi"}]

    seen = []
    for _ in range(3):
        raw = await resolve(
            client.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages)
        )
        completion = raw.parse()
        seen.append((dict(raw.headers.raw)[b"x-request-id"], completion.model_dump()))

    assert len(calls) == 1, "the second and third calls were cache hits"
    assert [value for value, _ in seen] == [ODD_ID] * 3
    assert seen[1][1] == seen[2][1] == seen[0][1]
    first, *hits = tracker.records
    assert [record.cached for record in hits] == [True, True]
    assert all(record.request_id == first.request_id for record in hits)
