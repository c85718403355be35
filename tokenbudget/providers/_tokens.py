"""Local token counting with tiktoken, and a fallback that never fails.

tiktoken downloads its encodings on first use. Where that is impossible (no
network, no ``TIKTOKEN_CACHE_DIR``) tokenbudget must keep working: counts fall
back to an approximation of one token per four characters and are reported as
estimated, with one warning logged per encoding.
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

from .._core import OutputText, logger, renew_after_fork

__all__ = ["count_output_tokens", "count_text_tokens", "encoding_name_for_model"]

_lock = threading.Lock()
renew_after_fork(sys.modules[__name__], "_lock", threading.Lock)
_encodings: dict[str, Any] = {}
_failed: set[str] = set()

# Models on o200k_base; everything else OpenAI-shaped uses cl100k_base, which is
# also our documented approximation for other providers' tokenizers.
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-6", "o1", "o3", "o4", "chatgpt-")


def encoding_name_for_model(model: str | None) -> str:
    """The tiktoken encoding used to count tokens for ``model``."""
    name = (model or "").rsplit("/", 1)[-1].lower()
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    return "cl100k_base"


def _encoding(name: str) -> Any | None:
    encoding = _encodings.get(name)
    if encoding is not None or name in _failed:
        return encoding
    with _lock:
        if name in _encodings or name in _failed:
            return _encodings.get(name)
        try:
            import tiktoken

            encoding = tiktoken.get_encoding(name)
        except Exception as exc:  # no network, missing cache, broken install
            _failed.add(name)
            logger.warning(
                "tokenbudget: tiktoken encoding %r could not be loaded (%s; offline? set "
                "TIKTOKEN_CACHE_DIR); local token counts are approximate",
                name,
                type(exc).__name__,
            )
            logger.debug("tiktoken failure", exc_info=True)
            return None
        _encodings[name] = encoding
        return encoding


def count_text_tokens(text: str, model: str | None = None) -> tuple[int, bool]:
    """Count the tokens of ``text`` for ``model``.

    Returns ``(count, approximate)``; ``approximate`` is true when tiktoken was
    unavailable and the count is the four-characters-per-token rule.
    """
    if not text:
        return 0, False
    encoding = _encoding(encoding_name_for_model(model))
    if encoding is None:
        return math.ceil(len(text) / 4), True
    return len(encoding.encode(text, disallowed_special=())), False


def count_output_tokens(text: OutputText, model: str | None) -> int:
    """Tokens of all the output text seen: the kept pieces counted, the rest extrapolated."""
    kept = "".join(text.pieces)
    tokens, _ = count_text_tokens(kept, model)
    overflow = text.overflow
    if overflow and kept:
        tokens += round(overflow * tokens / len(kept))
    elif overflow:
        tokens += -(-overflow // 4)
    return tokens
