"""What the three fake APIs share: answers, ids, JSON and SSE framing, text and tokens.

Nothing here imports an HTTP library: a provider turns a :class:`FakeRequest`
and a :class:`FakeReply` into an :class:`Answer` (status, headers, body chunks),
and the transport glue turns that into an httpx or httpx2 response.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import struct
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..providers import count_text_tokens
from ._reply import FakeReply, default_text
from ._request import FakeRequest, Message

__all__ = [
    "Answer",
    "Context",
    "FakeProvider",
    "Ids",
    "Output",
    "PromptTokens",
    "Route",
    "compact",
    "count",
    "embedding",
    "make_output",
    "pretty",
    "prompt_tokens",
    "sse",
    "split_text",
]

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HEX = "0123456789abcdef"
JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"

_WORD = re.compile(r"\s*\S+")


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: status, headers and the body as the chunks it streams in."""

    status: int
    headers: tuple[tuple[str, str], ...]
    chunks: tuple[bytes, ...]

    @classmethod
    def build(
        cls,
        status: int,
        content_type: str,
        chunks: Iterable[bytes],
        headers: Iterable[tuple[str, str]] = (),
        *,
        streamed: bool = False,
    ) -> Answer:
        """An answer; one that is not ``streamed`` gets a ``content-length``."""
        body = tuple(chunks)
        head = [("content-type", content_type), *headers]
        if not streamed:
            head.append(("content-length", str(sum(len(chunk) for chunk in body))))
        return cls(status, tuple(head), body)


class Ids:
    """Deterministic ids: the n-th id of a kind is the same in every run."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, kind: str, length: int, alphabet: str = BASE62) -> str:
        """The next id of ``kind``: ``length`` characters of ``alphabet``."""
        with self._lock:
            number = self._counts.get(kind, 0) + 1
            self._counts[kind] = number
        return token(f"{kind}:{number}", length, alphabet)

    def reset(self) -> None:
        """Start every kind of id over."""
        with self._lock:
            self._counts.clear()


def token(seed: str, length: int, alphabet: str = BASE62) -> str:
    """``length`` characters of ``alphabet`` derived from ``seed`` (stable across runs)."""
    out: list[str] = []
    counter = 0
    while len(out) < length:
        digest = hashlib.sha256(f"{seed}#{counter}".encode()).digest()
        out.extend(alphabet[byte % len(alphabet)] for byte in digest)
        counter += 1
    return "".join(out[:length])


@dataclass(frozen=True)
class Context:
    """Per-request settings a provider renders with."""

    ids: Ids
    created: int
    """The Unix time the answer says it was created at."""
    chunk_size: int
    """Words per streamed text delta."""


class Route(NamedTuple):
    """Which endpoint a request is for (a provider's answer to :meth:`FakeProvider.route`)."""

    endpoint: str
    model: str | None
    stream: bool
    generates: bool
    """True when the endpoint produces text and so takes the next scripted reply."""


class FakeProvider(ABC):
    """One fake API: recognises its requests and answers them in its wire format."""

    name: str

    @abstractmethod
    def route(self, path: str, query: str, body: Any) -> Route | None:
        """The endpoint of a POST to ``path``, or ``None`` when it is not one of ours."""

    @abstractmethod
    def messages(self, route: Route, body: Any) -> tuple[Message, ...]:
        """The prompt of a request body, as messages."""

    @abstractmethod
    def answer(self, request: FakeRequest, reply: FakeReply, ctx: Context) -> Answer:
        """The successful answer to ``request`` saying ``reply``."""

    @abstractmethod
    def error(
        self,
        status: int,
        ctx: Context,
        *,
        message: str | None = None,
        error_type: str | None = None,
        error_code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """An error answer in this API's error format."""


# -- framing ------------------------------------------------------------------------


def compact(document: Any) -> str:
    """JSON without spaces, as OpenAI and Anthropic stream it."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def pretty(document: Any) -> bytes:
    """JSON indented by two spaces, as OpenAI and Google send whole bodies."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def sse(data: str, event: str | None = None, newline: str = "\n") -> bytes:
    """One server-sent event."""
    head = f"event: {event}{newline}" if event else ""
    return f"{head}data: {data}{newline}{newline}".encode()


# -- text and tokens ------------------------------------------------------------------


def count(text: str, model: str | None) -> int:
    """Tokens of ``text`` with the library's tokenizer for ``model``."""
    return count_text_tokens(text, model)[0]


def split_text(text: str, words: int) -> list[str]:
    """``text`` as stream deltas of ``words`` words each; they join back to ``text``."""
    pieces = _WORD.findall(text)
    if not pieces:
        return [text] if text else []
    tail = text[sum(len(piece) for piece in pieces) :]
    pieces[-1] += tail  # trailing whitespace
    size = max(1, words)
    return ["".join(pieces[i : i + size]) for i in range(0, len(pieces), size)]


def _truncate(text: str, limit: int, model: str | None) -> str:
    """The longest word prefix of ``text`` that fits in ``limit`` tokens."""
    pieces = split_text(text, 1)
    low, high = 0, len(pieces)
    while low < high:
        middle = (low + high + 1) // 2
        if count("".join(pieces[:middle]), model) <= limit:
            low = middle
        else:
            high = middle - 1
    return "".join(pieces[:low])


@dataclass(frozen=True)
class Output:
    """The text the fake model produces for one request, and its token counts."""

    text: str
    truncated: bool
    """True when the request's output limit cut the text."""
    text_tokens: int
    reasoning_tokens: int
    output_tokens: int
    """Output tokens reported: text plus reasoning, or the reply's override."""
    pieces: list[str]
    """The text as stream deltas."""


def make_output(
    reply: FakeReply,
    request: FakeRequest,
    ctx: Context,
    *,
    limit: Any = None,
    model: str | None = None,
) -> Output:
    """Resolve the reply's text, cut it to ``limit`` tokens, count it."""
    model = model or request.model
    text = default_text(request) if reply.text is None else reply.text
    truncated = False
    limited = isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0
    if limited and count(text, model) > limit:
        text, truncated = _truncate(text, limit, model), True
    text_tokens = count(text, model)
    reasoning = max(0, reply.reasoning_tokens)
    total = reply.output_tokens if reply.output_tokens is not None else text_tokens + reasoning
    return Output(
        text=text,
        truncated=truncated,
        text_tokens=text_tokens,
        reasoning_tokens=min(reasoning, total),
        output_tokens=total,
        pieces=split_text(text, ctx.chunk_size),
    )


@dataclass(frozen=True)
class PromptTokens:
    """The prompt's tokens and the parts of them the cache served or stored."""

    total: int
    cached: int
    cache_write: int
    cache_write_1h: int

    @property
    def uncached(self) -> int:
        """Tokens neither read from nor written to the cache (Anthropic's ``input_tokens``)."""
        return self.total - self.cached - self.cache_write


def prompt_tokens(reply: FakeReply, counted: int) -> PromptTokens:
    """The prompt size (counted, or the reply's override) split as the reply says."""
    total = reply.input_tokens if reply.input_tokens is not None else counted
    cached = min(max(0, reply.cached_tokens), total)
    write = min(max(0, reply.cache_write_tokens), total - cached)
    write_1h = min(max(0, reply.cache_write_1h_tokens), write)
    return PromptTokens(total, cached, write, write_1h)


def sum_tokens(texts: Iterable[str], model: str | None) -> int:
    """The tokens of each text, summed (how Anthropic and Gemini prompts are counted)."""
    return sum(count(text, model) for text in texts)


# -- embeddings -------------------------------------------------------------------------


def embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for ``text``: equal texts get equal vectors.

    Values are float32, so the float and base64 encodings decode alike.
    """
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(max(1, dimensions))]
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    packed = struct.pack(f"<{len(values)}f", *(value / norm for value in values))
    return list(struct.unpack(f"<{len(values)}f", packed))


def base64_floats(values: list[float]) -> str:
    """``values`` as base64 of little-endian float32, OpenAI's ``encoding_format=base64``."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")
