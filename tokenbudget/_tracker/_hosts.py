"""Calls answered by a host that is not their provider's own API, priced by their model name.

The providers recognise a gateway, a proxy or a local server by the request's
path and mark the endpoint with the host (``endpoint.via``), recorded as
``local`` (free) on loopback and ``openai-compatible`` (unpriced) elsewhere.
Only the tracker knows the prices, so it decides here, before the call is
sent (budgets price it from the same provider):

- a price registered for that host's kind (``register_model(..., provider="local")``,
  or without a provider) wins: nothing changes;
- otherwise a model the price book sells (``PriceBook.list_provider``) is
  recorded under that provider (``gpt-4o`` -> ``openai``) and priced at its list
  price, without the host label in its model; the record keeps ``via``;
- an unknown model keeps the provider's own answer.

Each case is said once in the log: per host for a gateway ("calls to HOST
speak the OpenAI API and are priced by model name"), per host and model for a
host tokenbudget took for a free local server, since a paying model there is
either a proxy to a paid API or a mistake in the price, and $0 would hide it.
A host mapped by the user (``TokenTracker(hosts=...)``) is never marked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core import Endpoint, logger, warn_once

if TYPE_CHECKING:
    from ._prices import TrackerPrices

__all__ = ["price_by_model"]

#: Providers under which the providers record calls to local servers: free until priced.
_FREE = frozenset({"local"})


def price_by_model(endpoint: Endpoint, prices: TrackerPrices) -> None:
    """Give ``endpoint`` (marked with ``via``) the provider that sells its model, if any.

    The tracker's book may be any object with a ``PriceBook``'s interface; one
    without ``resolve``/``list_provider`` leaves the endpoint as it is.
    """
    model = endpoint.request_model
    host = endpoint.via
    if not model or host is None:
        return
    try:
        book = prices.book
        if book.resolve(model, endpoint.provider) is not None:
            return  # a price registered for this kind of host wins
        maker: str | None = book.list_provider(model)
    except Exception:  # a foreign book, or a broken one: pricing must not break the call
        logger.debug("tokenbudget: no provider for %r by model name", model, exc_info=True)
        return
    if maker is None:
        return
    free = endpoint.provider in _FREE
    endpoint.provider = maker
    endpoint.model_label = None
    api = getattr(endpoint.handler, "api", "") or "an LLM"
    if free:
        warn_once(
            f"free-host:{host}:{model}",
            "tokenbudget: %s looks like a local server (free), but it answered %s %r, which "
            "%s sells: the call is priced at %s's list price. If %s serves it for free, map "
            "the host: TokenTracker(hosts={'%s': 'local'})",
            host,
            api,
            model,
            maker,
            maker,
            host,
            host,
        )
        return
    warn_once(
        f"any-host:{host}",
        "tokenbudget: calls to %s speak the %s API; they are priced by model name at the list "
        "price of the model's provider (%r: %s). Map the host to choose otherwise: "
        "TokenTracker(hosts={'%s': '%s'}), or 'local' for free",
        host,
        api,
        model,
        maker,
        host,
        maker,
    )
