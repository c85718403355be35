"""Cache entries: safe headers, the byte format, expiry."""

from __future__ import annotations

import pytest

from tokenbudget.cache import CacheEntry, StoredResponse, safe_headers

SSE = b'data: {"a":1}\n\ndata: [DONE]\n\n'


def entry(**changes: object) -> CacheEntry:
    response = StoredResponse(
        200, (("content-type", "text/event-stream"), ("x-request-id", "req_1")), SSE, True
    )
    fields: dict[str, object] = {
        "response": response,
        "created_at": 100.0,
        "expires_at": 160.0,
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 7,
        "output_tokens": 3,
    }
    fields.update(changes)
    return CacheEntry(**fields)  # type: ignore[arg-type]


def test_only_safe_headers_are_kept() -> None:
    headers = [
        ("Content-Type", "application/json"),
        ("Set-Cookie", "__cf_bm=abc"),
        ("authorization", "Bearer sk-x"),
        ("x-api-key", "sk-ant"),
        ("Content-Encoding", "gzip"),
        ("content-length", "123"),
        ("transfer-encoding", "chunked"),
        ("x-ratelimit-remaining-tokens", "100"),
        ("anthropic-organization-id", "org"),
        ("openai-organization", "org"),
        ("X-Request-ID", "req_1"),
        ("request-id", "req_2"),
        ("openai-processing-ms", "12"),
    ]
    assert safe_headers(headers) == (
        ("content-type", "application/json"),
        ("x-request-id", "req_1"),
        ("request-id", "req_2"),
        ("openai-processing-ms", "12"),
    )


@pytest.mark.parametrize("expires", [160.0, None])
def test_bytes_round_trip(expires: float | None) -> None:
    original = entry(expires_at=expires)
    assert CacheEntry.from_bytes(original.to_bytes()) == original


def test_the_body_is_stored_as_is() -> None:
    data = entry().to_bytes()
    assert data.endswith(SSE)


def framed(head: bytes, body: bytes = SSE) -> bytes:
    return b"TBC1" + len(head).to_bytes(4, "big") + head + body


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"TBC1",
        b"pickle",
        b"TBC1\x00\x00\x00\x05{}xyz",
        b"TBC1\x00\x00\x00\x02[]",
        b"TBC1\xff\xff",
        # a sound frame around a damaged head
        framed(b"{}"),
        framed(b'{"status": 200} x'),
        framed(b'{"status": 200}{}'),
        framed(b"\xff{}"),
        framed(b"[1]"),
        framed(b""),
        framed(b'"\\ud800"'),
        framed(b'{"status": 1e400, "headers": [], "stream": false, "created": 0}'),
    ],
)
def test_damaged_bytes_raise_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        CacheEntry.from_bytes(data)


def test_expiry_and_size() -> None:
    stored = entry()
    assert not stored.expired(159.99)
    assert stored.expired(160.0)
    assert not entry(expires_at=None).expired(1e12)
    assert stored.tokens == 10
    assert stored.size > len(SSE)


def test_a_head_json_loads_accepts_is_read_as_before() -> None:
    """Heads ``to_bytes`` never writes (whitespace, UTF-16) still parse as ``json.loads`` did."""
    data = entry().to_bytes()
    head = data[40 : 40 + int.from_bytes(data[36:40], "big")]  # after the magic and the seal
    for variant in (b" " + head + b"\n", head.decode().encode("utf-16"), b"\xef\xbb\xbf" + head):
        assert CacheEntry.from_bytes(framed(variant)) == entry()


def test_an_entry_is_sealed_with_its_stores_secret() -> None:
    data = entry().to_bytes(b"store-secret")
    assert CacheEntry.from_bytes(data, b"store-secret") == entry()
    with pytest.raises(ValueError, match="seal"):
        CacheEntry.from_bytes(data, b"another-secret")
    with pytest.raises(ValueError, match="seal"):
        CacheEntry.from_bytes(data)


def test_a_store_with_a_secret_never_reads_the_unsealed_format() -> None:
    head = b'{"status":200,"headers":[],"stream":true,"created":1}'
    assert CacheEntry.from_bytes(framed(head)).response.body == SSE
    with pytest.raises(ValueError):
        CacheEntry.from_bytes(framed(head), b"store-secret")


@pytest.mark.parametrize(
    "head",
    [
        b'{"status":999,"headers":[],"stream":false,"created":1}',
        b'{"status":-1,"headers":[],"stream":false,"created":1}',
        b'{"status":true,"headers":[],"stream":false,"created":1}',
        rb'{"status":200,"headers":[["x","a\r\nb"]],"stream":false,"created":1}',
        b'{"status":200,"headers":[["x y","a"]],"stream":false,"created":1}',
        rb'{"status":200,"headers":[["x","\u2603"]],"stream":false,"created":1}',
        b'{"status":200,"headers":[],"stream":1,"created":1}',
        b'{"status":200,"headers":[],"stream":false,"created":NaN}',
        b'{"status":200,"headers":[],"stream":false,"created":1,"in":-5}',
        b'{"status":200,"headers":[],"stream":false,"created":1,"size":3}',
        b'{"status":200,"headers":[],"stream":false,"created":1,"model":7}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "status-999",
        "status-negative",
        "status-bool",
        "header-crlf",
        "header-name",
        "header-not-latin-1",
        "stream-int",
        "created-nan",
        "tokens-negative",
        "size-differs",
        "model-int",
        "deep-json",
    ],
)
def test_a_head_that_cannot_describe_a_stored_answer_is_damaged(head: bytes) -> None:
    with pytest.raises(ValueError):
        CacheEntry.from_bytes(framed(head))
