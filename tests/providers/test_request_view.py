"""RequestView.json: parsed as json.loads would, whatever shape the body has."""

from __future__ import annotations

import json

import pytest

from tokenbudget.providers import RequestView

DOCUMENT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "héllo"}], "n": 1.5}
COMPACT = json.dumps(DOCUMENT, separators=(",", ":"), ensure_ascii=False).encode()


def _view(body: bytes) -> RequestView:
    return RequestView("POST", "api.openai.com", "/v1/chat/completions", body=body)


@pytest.mark.parametrize(
    "body",
    [
        COMPACT,
        json.dumps(DOCUMENT).encode(),  # ASCII escapes and spaces, as json.dumps writes
        b"  \n" + COMPACT + b"\r\n ",  # blanks around the document
        COMPACT.decode().encode("utf-16"),
        COMPACT.decode().encode("utf-32-le"),
        b"\xef\xbb\xbf" + COMPACT,  # a UTF-8 byte-order mark
    ],
    ids=["compact", "dumps", "blanks", "utf-16", "utf-32", "bom"],
)
def test_a_json_body_parses_to_its_document(body: bytes) -> None:
    assert _view(body).json == DOCUMENT


@pytest.mark.parametrize(
    "body",
    [b"", b"{", COMPACT + b"{}", COMPACT + b" x", b"\xff\xfe\xfd", b"not json", b"[1,]"],
    ids=["empty", "cut", "two documents", "trailing text", "bad bytes", "text", "bad array"],
)
def test_anything_else_is_none(body: bytes) -> None:
    assert _view(body).json is None


def test_a_body_that_is_not_an_object_is_returned_as_json_has_it() -> None:
    assert _view(b'["a", 1]').json == ["a", 1]
    assert _view(b"3").json == 3
