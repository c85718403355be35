"""The record of one call, as the ledger stores it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ._frozen import SharedDefault, frozen_builder, reduce_frozen
from ._usage import Usage

__all__ = ["CallRecord", "make_record"]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One LLM call: who was asked, what was used, what it cost.

    ``model`` is the model that was billed (the response's, else the request's);
    ``request_model`` is the name the caller asked for. ``cost_usd`` is ``None``
    when the model has no known price ("unpriced"); errors (4xx/5xx) and cache
    hits cost zero.

    ``via`` is the host (``name:port``) that answered when it is not the API of
    ``provider``: a gateway, a proxy or a local server that tokenbudget
    recognised by the request's path. Such a call's ``provider`` is the one the
    price book knows its model from (``gpt-4o`` -> ``"openai"``), and it is
    priced at that provider's list price; ``"openai-compatible"`` or ``"local"``
    (free) when the model is unknown. ``None`` for a call to a provider's own API
    or to a host mapped with ``TokenTracker(hosts=...)``.

    ``latency_ms`` runs from the request leaving to the answer's end (a stream's
    close); ``first_chunk_ms``, for a stream, to its first body chunk (``None``
    for a plain answer or a stream that sent no body); the stores keep the
    latency, not the first chunk's time.
    """

    timestamp: datetime
    provider: str
    model: str | None
    endpoint: str
    usage: Usage
    cost_usd: Decimal | None
    request_model: str | None = None
    status_code: int | None = None
    latency_ms: float | None = None
    request_id: str | None = None
    response_id: str | None = None
    stream: bool = False
    cached: bool = False
    saved_cost_usd: Decimal | None = None
    service_tier: str | None = None
    error: str | None = None
    tags: Mapping[str, str] = field(default_factory=SharedDefault(MappingProxyType({})))
    raw_usage: Any = None
    price_version: str | None = None
    via: str | None = None
    first_chunk_ms: float | None = None

    __reduce__ = reduce_frozen

    @property
    def estimated(self) -> bool:
        """True when any figure was counted by tokenbudget, not reported."""
        return self.usage.estimated

    @property
    def input_tokens(self) -> int:
        """Every prompt token billed."""
        return self.usage.input_tokens

    @property
    def output_tokens(self) -> int:
        """Every output token billed."""
        return self.usage.output_tokens

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.usage.total_tokens

    @property
    def priced(self) -> bool:
        """False when the model had no known price."""
        return self.cost_usd is not None

    @property
    def succeeded(self) -> bool:
        """True for a 2xx answer without a reported error."""
        return self.error is None and (self.status_code is None or self.status_code < 400)


#: Builds a :class:`CallRecord` as ``CallRecord(...)`` does, faster (per-call paths).
make_record = frozen_builder(CallRecord)
