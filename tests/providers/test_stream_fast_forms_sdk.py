"""Through a real openai SDK client: streams of n > 1 choices, with or without a BOM,
read by the direct entry (its first chunk included) as by the general path.

The direct entry now takes a stream's first chunk too when it begins with
``data: `` (no BOM can be there), and the reader decides finish, usage and
deferral on the chunk's text. Each stream is read by an untracked client, by a
tracked one, and by a tracked one with the direct entry shut off (the decoder
then never says it is between events): the application's chunks must be the
same, and the two records the same.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tokenbudget._core import SSEDecoder

from .test_openai_stream_direct import MODEL, Host, cut, event_chunks, facts, read, stream_of

pytest.importorskip("hypothesis", reason="the property tests need hypothesis (dev extra)")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BOM = b"\xef\xbb\xbf"


def choices_stream(
    plan: list[tuple[int, str | None]], *, usage: bool, spaced: bool, ending: bytes
) -> bytes:
    """A chat stream of n choices: each (index, text) is a content chunk of that choice,
    (index, None) its finish; with ``usage``, as include_usage makes it."""
    separators = (", ", ": ") if spaced else (",", ":")
    events = []
    for index, text in plan:
        delta = {"content": text} if text is not None else {}
        chunk: dict[str, Any] = {
            "id": "c-1",
            "object": "chat.completion.chunk",
            "model": MODEL,
            "choices": [
                {"index": index, "delta": delta, "finish_reason": None if text else "stop"}
            ],
        }
        if usage:
            chunk["usage"] = None
        events.append(json.dumps(chunk, separators=separators, ensure_ascii=False).encode())
    return stream_of(events, usage, len(plan), separators, ending)


plans = st.lists(
    st.tuples(st.integers(0, 2), st.one_of(st.none(), st.sampled_from(["a", "é😀", '"x"', "b"]))),
    max_size=8,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=plans,
    spaced=st.booleans(),
    ending=st.sampled_from([b"\n", b"\n", b"\r\n"]),
    bom=st.booleans(),
    own_usage=st.booleans(),
    data=st.data(),
)
def test_n_choices_read_alike_direct_or_not(
    family: str,
    monkeypatch: pytest.MonkeyPatch,
    plan: list[tuple[int, str | None]],
    spaced: bool,
    ending: bytes,
    bom: bool,
    own_usage: bool,
    data: st.DataObject,
) -> None:
    start = BOM if bom else b""
    bodies = [
        start + choices_stream(plan, usage=usage, spaced=spaced, ending=ending)
        for usage in (True, False)
    ]
    with_usage, without = (event_chunks(body, ending) for body in bodies)
    if data.draw(st.booleans(), label="cut anywhere"):
        cuts = data.draw(st.lists(st.integers(0, len(bodies[0])), max_size=8), label="cuts")
        with_usage = cut(with_usage, cuts)
        without = cut(without, [c for c in cuts if c <= len(bodies[1])])
    host = Host(family, with_usage, without)
    options = {"n": 3, "stream_options": {"include_usage": True}} if own_usage else {"n": 3}

    plain, _ = read(family, host, tracked=False, **options)
    direct, direct_record = read(family, host, tracked=True, **options)
    with monkeypatch.context() as patch:
        patch.setattr(SSEDecoder, "between_events", lambda self: False)
        general, general_record = read(family, host, tracked=True, **options)

    assert direct == general == plain
    assert facts(direct_record) == facts(general_record)
    assert direct_record.usage == general_record.usage


def test_a_first_chunk_with_a_bom_is_decoded(family: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream that starts with a BOM takes the general path for its first chunk only."""
    body = BOM + choices_stream([(0, "a"), (0, None)], usage=True, spaced=False, ending=b"\n")
    without = BOM + choices_stream([(0, "a"), (0, None)], usage=False, spaced=False, ending=b"\n")
    host = Host(family, event_chunks(body, b"\n"), event_chunks(without, b"\n"))
    fed: list[bytes] = []
    feed = SSEDecoder.feed

    def counting(self: SSEDecoder, chunk: bytes) -> Any:
        fed.append(chunk)
        return feed(self, chunk)

    monkeypatch.setattr(SSEDecoder, "feed", counting)

    chunks, record = read(family, host, tracked=True)
    plain, _ = read(family, host, tracked=False)

    assert fed == [event_chunks(body, b"\n")[0]]
    assert chunks == plain  # (the SDK reads "\ufeffdata" as an unknown field, tracked or not)
    assert record.usage.output_tokens == 2 and not record.usage.estimated
