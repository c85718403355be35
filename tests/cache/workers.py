"""What each process of the multi-process cache tests runs (importable by ``spawn``)."""

from __future__ import annotations

from typing import Any

import openai

from tokenbudget import TokenTracker

#: Distinct requests the processes share.
KEYS = 300


def question(number: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Question number {number}?"}]


def ask_all(directory: str, host: str, reverse: bool, start: Any) -> None:
    """Ask every question once through a disk cache in ``directory``, in order or reversed."""
    tracker = TokenTracker(cache="disk", cache_dir=directory, hosts={host: "openai"})
    client = openai.OpenAI(
        api_key="sk-one",
        base_url=f"http://{host}/v1",
        http_client=tracker.httpx_client(),
        max_retries=0,
    )
    start.wait()
    numbers = range(KEYS - 1, -1, -1) if reverse else range(KEYS)
    for number in numbers:
        answer = client.chat.completions.create(model="gpt-4o", messages=question(number))
        assert answer.choices[0].message.content == f"Answer {number}."
    client.close()
