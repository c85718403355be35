"""Budget errors shaped so that the SDK that sent a call hands them to the caller as they are.

A refusal is raised in two places. Usually it is raised when the request is
*built* (the tracked client's ``build_request``, see
``tokenbudget._adapters._early``): every Stainless SDK builds a request outside
the ``try`` around sending it, so the error reaches the caller untouched, with
no retry, whatever its class. When it is raised from the transport instead
(a race lost between building and sending, a stream cut mid-way, a client
built on a bare ``tracker.transport()``), the SDK's exception handling around
``send`` sees it:

- openai up to 1.x and anthropic 0.x wrap any exception in their
  ``APIConnectionError`` after retrying (the refusal is its ``__cause__``);
- openai 2.x and 3.x re-raise an ``openai.OpenAIError`` untouched (``except
  OpenAIError: raise``), and the newest ones let anything that is not an
  httpx error through;
- anthropic 1.x and 2.x re-raise an ``anthropic.AnthropicError`` untouched
  and wrap and retry anything else.

So a refusal of a request sent by one of these SDKs is an instance of a
subclass of both the budget error and the SDK's base error (e.g.
``OpenAIBudgetExceeded(BudgetExceeded, openai.OpenAIError)``): those SDKs pass
it on at once, and ``except BudgetExceeded`` still catches it. The SDK is told
by the request's ``User-Agent`` (``OpenAI/Python 1.2.3``, ``AsyncAnthropic/Python
0.40.0``; Azure clients are ``AzureOpenAI/...``) or, for anthropic, its
``anthropic-version`` header or provider. The subclasses are built on first
use, only when the SDK is already imported (it is never imported to decide),
and are module attributes of this module so that their instances pickle; in a
process where one does not exist yet, unpickling builds it (:func:`__getattr__`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._data import TokenBudgetError

if TYPE_CHECKING:
    from .._core import Exchange

__all__ = ["budget_error"]


@dataclass(frozen=True)
class _Sdk:
    """An SDK that re-raises its own base error untouched from its transport."""

    module: str
    """Its import name."""
    base: str
    """Its base error class, in that module."""
    prefix: str
    """The flavoured classes' name prefix (``OpenAI`` gives ``OpenAIBudgetExceeded``)."""
    agent: str
    """What its ``User-Agent`` contains, lower-cased."""

    def sent(self, exchange: Exchange, agent: str) -> bool:
        """True when ``exchange``'s request comes from this SDK."""
        if self.agent in agent:
            return True
        if self.module != "anthropic" or "openai/python" in agent:
            return False
        return "anthropic-version" in exchange.request.headers or (
            exchange.endpoint.provider == "anthropic"
        )


_SDKS = (
    _Sdk("openai", "OpenAIError", "OpenAI", "openai/python"),
    _Sdk("anthropic", "AnthropicError", "Anthropic", "anthropic"),
)
_flavoured: dict[tuple[str, type[TokenBudgetError]], type[TokenBudgetError]] = {}


def budget_error(
    exchange: Exchange | None, kind: type[TokenBudgetError], message: str, **attributes: Any
) -> TokenBudgetError:
    """A ``kind`` error for a call, in the flavour its SDK passes through unwrapped."""
    cls = kind
    if exchange is not None:
        sdk = _sdk_of(exchange)
        if sdk is not None:
            cls = _flavour(sdk, kind)
    return cls(message, **attributes)


def _sdk_of(exchange: Exchange) -> _Sdk | None:
    """The imported SDK that sent ``exchange``'s request, if it is one of :data:`_SDKS`."""
    headers: Mapping[str, str] = exchange.request.headers
    agent = (headers.get("user-agent") or "").lower()
    for sdk in _SDKS:
        if sdk.module in sys.modules and sdk.sent(exchange, agent):
            return sdk
    return None


def _flavour(sdk: _Sdk, kind: type[TokenBudgetError]) -> type[TokenBudgetError]:
    """``kind`` as a subclass of ``sdk``'s base error too (``kind`` if the SDK has none)."""
    cls = _flavoured.get((sdk.module, kind))
    if cls is None:
        base = getattr(sys.modules[sdk.module], sdk.base, None)
        if not isinstance(base, type) or not issubclass(base, Exception):
            return kind
        name = f"{sdk.prefix}{kind.__name__}"
        # Named as ``kind`` (records and reprs read ``BudgetExceeded`` whichever SDK
        # sent the call); found by its qualified name, so instances pickle.
        cls = type(kind.__name__, (kind, base), {"__module__": __name__, "__qualname__": name})
        globals()[name] = cls
        _flavoured[(sdk.module, kind)] = cls
    return cls


def __getattr__(name: str) -> type[TokenBudgetError]:
    """A flavoured class not built yet in this process (unpickling one): built now.

    The SDK is imported for it; where it is not installed, the plain budget
    error stands in, so the error still unpickles.
    """
    for sdk in _SDKS:
        kind = _kind_named(name.removeprefix(sdk.prefix)) if name.startswith(sdk.prefix) else None
        if kind is None:
            continue
        try:
            importlib.import_module(sdk.module)
        except ImportError:
            return kind
        return _flavour(sdk, kind)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _kind_named(name: str) -> type[TokenBudgetError] | None:
    """The budget error class called ``name`` (the plugin's own kinds included), if loaded."""
    found: list[type[TokenBudgetError]] = [TokenBudgetError]
    for kind in found:
        if kind.__name__ == name and kind.__module__ != __name__:
            return kind
        found.extend(kind.__subclasses__())
    return None
