"""benchmarks/lean_tracker.py, the floor of the speed benchmarks: it must do the work it
stands for. Through the real openai SDK, each call on the floor gives the caller what an
untracked call gives and records what tokenbudget records, save the call's own clock."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from bench_transport import MESSAGES, clients, lean_client  # noqa: E402

from tokenbudget import TokenTracker  # noqa: E402

#: What differs between two records of the same answer: when and how fast it came.
CLOCK = {"timestamp", "latency_ms", "first_chunk_ms"}


def recorded(record: Any) -> dict[str, Any]:
    fields = (field.name for field in dataclasses.fields(record))
    return {name: getattr(record, name) for name in fields if name not in CLOCK}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_the_floor_answers_and_records_as_tokenbudget_does(stream: bool) -> None:
    plain, tracked, tracker = clients(1)
    floor = TokenTracker()
    lean = lean_client(floor)

    def ask(client: Any) -> Any:
        answer = client.chat.completions.create(
            model="gpt-4o-mini" if stream else "gpt-4o", messages=MESSAGES, stream=stream
        )
        return [chunk.model_dump() for chunk in answer] if stream else answer.model_dump()

    assert ask(lean) == ask(plain) == ask(tracked)
    [on_floor] = floor.records
    [by_tokenbudget] = tracker.records
    assert recorded(on_floor) == recorded(by_tokenbudget)
    assert on_floor.cost_usd > 0 and on_floor.stream is stream
    assert floor.usage == tracker.usage
