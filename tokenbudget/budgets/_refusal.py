"""Budget errors shaped so that every SDK hands them to the caller as they are.

openai 3.x and google-genai 3.x let an exception that is not an httpx error
propagate from the transport untouched. anthropic 2.x wraps any exception that
is not an ``anthropic.AnthropicError`` in ``APIConnectionError`` and retries it
(``_attempt_request`` / ``_should_retry_exception``), so the caller would get a
connection error after the retry sleeps. For a request sent by the anthropic
SDK, the error is therefore an instance of a subclass of both the budget error
and ``anthropic.AnthropicError``: the SDK re-raises it at once, and
``except BudgetExceeded`` still catches it. The subclasses are built on first
use, only when ``anthropic`` is already imported (it is never imported here).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .._data import TokenBudgetError

if TYPE_CHECKING:
    from .._core import Exchange

__all__ = ["budget_error"]

_flavoured: dict[type[TokenBudgetError], type[TokenBudgetError]] = {}


def budget_error(
    exchange: Exchange | None, kind: type[TokenBudgetError], message: str, **attributes: Any
) -> TokenBudgetError:
    """A ``kind`` error for a call, in the flavour its SDK passes through unwrapped."""
    cls = _anthropic_flavour(kind) if exchange is not None and _from_anthropic(exchange) else kind
    return cls(message, **attributes)


def _from_anthropic(exchange: Exchange) -> bool:
    if "anthropic" not in sys.modules:
        return False
    if exchange.endpoint.provider == "anthropic":
        return True
    headers = exchange.request.headers
    agent = headers.get("user-agent") or ""
    return "anthropic" in agent.lower() or "anthropic-version" in headers


def _anthropic_flavour(kind: type[TokenBudgetError]) -> type[TokenBudgetError]:
    cls = _flavoured.get(kind)
    if cls is None:
        base = getattr(sys.modules["anthropic"], "AnthropicError", None)
        if not isinstance(base, type) or not issubclass(base, Exception):
            return kind
        name = f"Anthropic{kind.__name__}"
        cls = type(name, (kind, base), {"__module__": __name__, "__qualname__": name})
        globals()[name] = cls  # importable by name, so instances pickle
        _flavoured[kind] = cls
    return cls
