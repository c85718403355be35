"""The incremental content decoders for the copy of a body that tokenbudget reads."""

from __future__ import annotations

import gzip
import sys
import types
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from tokenbudget._core import IDENTITY, UnsupportedEncoding, decoder_for

DATA = b'{"usage": {"in": 11, "out": 7}, "text": "\xc3\xa9t\xc3\xa9"}' * 50


def decode_in_pieces(encoding: str, encoded: bytes, size: int) -> bytes:
    decoder = decoder_for(encoding)
    pieces = [decoder.decode(encoded[i : i + size]) for i in range(0, len(encoded), size)]
    return b"".join(pieces) + decoder.flush()


def raw_deflate(data: bytes) -> bytes:
    return zlib.compress(data)[2:-4]


@pytest.mark.parametrize("value", [None, "", "identity", " Identity ", "identity, identity"])
def test_no_encoding_is_the_shared_identity_decoder(value: str | None) -> None:
    decoder = decoder_for(value)

    assert decoder is IDENTITY
    assert decoder.decode(DATA) == DATA and decoder.flush() == b""


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("GZIP", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),
        ("gzip, deflate", lambda data: zlib.compress(gzip.compress(data))),
        ("deflate, gzip", lambda data: gzip.compress(zlib.compress(data))),
        ("gzip, identity, gzip", lambda data: gzip.compress(gzip.compress(data))),
    ],
)
@pytest.mark.parametrize("size", [2, 7, 1 << 20])
def test_a_body_decodes_the_same_whatever_its_pieces(
    encoding: str, encode: Callable[[bytes], bytes], size: int
) -> None:
    assert decode_in_pieces(encoding, encode(DATA), size) == DATA


def test_raw_deflate_decodes_when_its_first_piece_is_one_byte() -> None:
    assert decode_in_pieces("deflate", raw_deflate(DATA), 1) == DATA


@pytest.mark.parametrize("encoding", ["compress", "gzip, compress", "snappy"])
def test_an_unknown_encoding_is_unsupported(encoding: str) -> None:
    with pytest.raises(UnsupportedEncoding):
        decoder_for(encoding)


@pytest.mark.parametrize("encoding", ["snappy", "x-custom, identity", "compress"])
def test_an_unknown_encoding_can_be_skipped_as_httpx_skips_it(encoding: str) -> None:
    """What the caller's client cannot decode either, it hands over as it came."""
    assert decoder_for(encoding, skip_unsupported=True) is IDENTITY


def test_skipping_keeps_the_encodings_that_can_be_decoded() -> None:
    encoded = gzip.compress(DATA)
    decoder = decoder_for("snappy, gzip", skip_unsupported=True)
    assert decoder.decode(encoded[:100]) + decoder.decode(encoded[100:]) + decoder.flush() == DATA


def test_corrupt_gzip_raises_for_the_caller_to_handle() -> None:
    with pytest.raises(zlib.error):
        decoder_for("gzip").decode(b"this is not gzip at all")


@pytest.mark.parametrize(
    ("encoding", "modules", "hint"),
    [
        ("br", ["brotli", "brotlicffi"], "install brotli"),
        (
            "zstd",
            ["compression", "compression.zstd", "backports", "backports.zstd", "zstandard"],
            "install zstandard",
        ),
    ],
)
def test_a_missing_optional_decoder_says_what_to_install(
    encoding: str, modules: list[str], hint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if not installed

    with pytest.raises(UnsupportedEncoding, match=hint):
        decoder_for(encoding)


class _ZlibStandIn:
    """Decompresses zlib data under the method name of a given binding."""

    def __init__(self, method: str) -> None:
        self._obj = zlib.decompressobj()
        setattr(self, method, self._decompress)

    def _decompress(self, data: bytes) -> Any:
        return bytearray(self._obj.decompress(data))  # some bindings return bytearray


def _fake_module(name: str, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


@pytest.mark.parametrize(
    "installed",
    [
        {"brotli": _fake_module("brotli", Decompressor=lambda: _ZlibStandIn("decompress"))},
        {
            "brotli": None,
            "brotlicffi": _fake_module("brotlicffi", Decompressor=lambda: _ZlibStandIn("process")),
        },
    ],
    ids=["brotli", "brotlicffi"],
)
def test_br_is_decoded_through_whichever_binding_is_installed(
    installed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, module in installed.items():
        monkeypatch.setitem(sys.modules, name, module)

    # The stand-ins decompress zlib data: this checks the binding, not brotli itself.
    assert decode_in_pieces("br", zlib.compress(DATA), 5) == DATA


def test_zstd_is_decoded_through_zstandard_before_python_3_14(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Decompressor:
        def decompressobj(self) -> _ZlibStandIn:
            return _ZlibStandIn("decompress")

    monkeypatch.setitem(sys.modules, "compression", None)
    monkeypatch.setitem(
        sys.modules, "zstandard", _fake_module("zstandard", ZstdDecompressor=Decompressor)
    )

    assert decode_in_pieces("zstd", zlib.compress(DATA), 5) == DATA


def test_zstd_is_decoded_through_the_backport_httpx2_also_uses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever encoding the caller's httpx2 can decode, tokenbudget can too."""
    monkeypatch.setitem(sys.modules, "compression", None)
    backport = _fake_module("backports.zstd", ZstdDecompressor=lambda: _ZlibStandIn("decompress"))
    monkeypatch.setitem(sys.modules, "backports", _fake_module("backports", zstd=backport))
    monkeypatch.setitem(sys.modules, "backports.zstd", backport)
    monkeypatch.setitem(sys.modules, "zstandard", None)

    assert decode_in_pieces("zstd", zlib.compress(DATA), 5) == DATA
