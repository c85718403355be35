"""``TokenTracker``: the object users hold, and the composition root of a call's services.

A tracker is built from a ledger (``tokenbudget.store``), a price book
(``tokenbudget.pricing``), a provider registry (``tokenbudget.providers``),
budgets and a response cache; it hands each call's exchange (the core) the
:class:`~tokenbudget._core.Ports` that reach them. What users read and call
lives in the mixins: results (``_results``), clients (``_clients``), history
(``_history``).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .._adapters import arm_early_refusal
from .._core import CallGuard, Exchange, Ports, RequestView, logger, renew_after_fork, warn_once
from .._data import CallRecord, check_usage, make_usage, units_mapping
from ..budgets import (
    Budget,
    active_budgets,
    budgets_exist,
    covering,
    hold,
    tracker_budgets,
    when_budgets_exist,
    would_refuse,
)
from ..cache import CacheOption, build_cache
from ..pricing import PriceBook
from ..providers import Provider, ProviderRegistry, default_registry
from ..store import (
    DEFAULT_MAX_RECORDS,
    DEFAULT_MAX_TAG_VALUES,
    Ledger,
    RecordCallback,
    StoreSpec,
)
from ._clients import TrackerClients
from ._history import TrackerHistory
from ._hosts import price_by_model
from ._prices import PriceSource, TrackerPrices
from ._results import TrackerResults
from ._tags import current_tags, tags_in_force

__all__ = ["TokenTracker", "get_tracker"]


class TokenTracker(TrackerResults, TrackerClients, TrackerHistory):
    """Tracks tokens and cost of every LLM call made through its clients.

    >>> tracker = TokenTracker()
    >>> client = openai.OpenAI(http_client=tracker.httpx_client())  # doctest: +SKIP

    Args:
        prices: a price override file (LiteLLM or tokenbudget format) or a
            ``PriceBook``; default: the built-in prices plus ``$TOKENBUDGET_PRICES``.
        inject_stream_usage: ask OpenAI and Azure for usage on streamed chat calls
            that did not ask for it, hiding the extra chunk from the caller.
        hosts: hosts to track as a provider of your choice, e.g.
            ``{"llm-gw.internal": "openai"}`` for a gateway speaking OpenAI's API,
            or ``{"localhost:4000": "local"}`` for a free local server. Unmapped
            hosts that speak a known API are recognised by path and priced by
            model name (``CallRecord.via`` names them, a warning says so once).
        max_records: how many recent call records to keep in memory; totals are
            always exact over every call.
        max_tag_values: at most this many values per tag name get totals of their
            own (default 1,000); later new values count as ``"(other)"`` in
            ``usage_by_tag`` (warned once). Records and stores keep real tags.
        on_record: a callback run with each :class:`CallRecord`.
        cache: answer identical calls from stored responses: ``"memory"``,
            ``"disk"``, a backend, a ``tokenbudget.cache.CallCache``, or any
            object with its ``lookup``/``store`` methods; ``None``: off.
        cache_dir: where ``cache="disk"`` keeps answers (default
            ``$TOKENBUDGET_CACHE_DIR`` or ``~/.cache/tokenbudget``).
        cache_ttl: seconds (or a ``timedelta``) an answer is served for; ``None``: forever.
        cache_max_entries: at most this many answers in the memory cache.
        cache_ignore_fields: request body fields that do not change the answer
            (``"user"``, ``"metadata.user_id"``).
        cache_vary_headers: request headers that part cached answers besides the
            credentials, e.g. ``["X-Tenant"]``. Every credential-bearing header
            (``Authorization``, ``Cookie``, any name with ``key``, ``token``,
            ``auth``, ``secret``, ``session``...) always does; values are only
            hashed with the cache's secret, never stored.
        store: keep every call in a usage store that outlives the process:
            ``"usage.db"`` (a SQLite file), ``"sqlite:///path"``,
            ``"redis://host:6379/0"`` (counters shared by many machines), or a
            ``tokenbudget.store.UsageStore``; ``tracker.usage`` then starts from
            the store's totals. History methods: ``tokenbudget/_tracker/_history.py``.
        max_cost_usd, max_tokens: a budget on every call of this tracker, in every
            context (``tracker.budgets[0]``); see :func:`tokenbudget.budget`.
        budgets: more tracker-wide budgets, e.g. ``[budget(max_cost_usd=5, per="day")]``.

    Extension seams (the pytest plugin uses them): :meth:`begin` (which calls
    are tracked, by which tracker) and :meth:`admit` (which gates a call passes)
    may be overridden, and ``cache=`` accepts any object with the
    ``tokenbudget._core.ResponseCache`` interface. A subclass whose ``admit``
    adds gates overrides :meth:`refuse_early` too (a dry run of them), or its
    calls are refused only when sent.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        prices: PriceSource = None,
        inject_stream_usage: bool = True,
        hosts: Mapping[str, str | Provider] | None = None,
        max_records: int | None = DEFAULT_MAX_RECORDS,
        max_tag_values: int | None = DEFAULT_MAX_TAG_VALUES,
        on_record: RecordCallback | None = None,
        cache: CacheOption = None,
        cache_dir: str | os.PathLike[str] | None = None,
        cache_ttl: float | timedelta | None = None,
        cache_max_entries: int | None = None,
        cache_ignore_fields: Iterable[str] = (),
        cache_vary_headers: Iterable[str] = (),
        store: StoreSpec | None = None,
        max_cost_usd: Decimal | float | str | None = None,
        max_tokens: int | None = None,
        budgets: Iterable[Budget] = (),
    ) -> None:
        self.name = name
        self.inject_stream_usage = inject_stream_usage
        if type(self).may_refuse is not TokenTracker.may_refuse:
            arm_early_refusal()  # it may refuse calls without a budget (the pytest plugin's)
        self._ledger = Ledger(max_records, max_tag_values)
        self._prices = TrackerPrices(prices)
        self._registry = ProviderRegistry(parent=default_registry)
        self._cache = build_cache(
            cache,
            directory=cache_dir,
            ttl=cache_ttl,
            max_entries=cache_max_entries,
            ignore_fields=cache_ignore_fields,
            vary_headers=cache_vary_headers,
        )
        self._ports = Ports(
            price=self._prices.cost,
            record=self._ledger.record,
            admit=self.admit,
            cache=self._cache,
            price_version=self._prices.version,
        )
        for host, provider in (hosts or {}).items():
            self.register_host(host, provider)
        if on_record is not None:
            self.on_record(on_record)
        self._open_store(store)
        self.budgets = tracker_budgets(name, max_cost_usd, max_tokens, budgets)
        if type(self).admit is TokenTracker.admit:
            _admit_once_budgets_exist(self)

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<TokenTracker{label} {self.usage!r}>"

    @property
    def prices(self) -> PriceBook:
        """The price book this tracker prices calls with."""
        return self._prices.book

    def register_host(self, host: str, provider: str | Provider) -> None:
        """Track calls to ``host`` (``"name"`` or ``"name:port"``) as ``provider`` speaks.

        ``provider`` is a provider object or the name of a built-in one
        (``"openai"``, ``"azure"``...). ``"local"`` makes the host's calls free,
        silently, whatever their models; ``"openai-compatible"`` recognises every
        API by path and prices by model name, as for unmapped hosts.
        """
        if isinstance(provider, str):
            found = self._registry.provider_named(provider)
            if found is None:
                known = ", ".join(self._registry.names())
                raise ValueError(f"unknown provider {provider!r} (known: {known})")
            provider = found
        self._registry.register(provider, hosts=[host])

    def track(
        self,
        model: str,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        provider: str | None = None,
        *,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
        cache_write_1h_tokens: int = 0,
        reasoning_tokens: int = 0,
        audio_input_tokens: int = 0,
        audio_output_tokens: int = 0,
        image_input_tokens: int = 0,
        image_output_tokens: int = 0,
        units: Mapping[str, int] | None = None,
        service_tier: str | None = None,
        batch: bool = False,
        endpoint: str = "manual",
        tags: Mapping[str, str] | None = None,
    ) -> CallRecord:
        """Record a call made without a tracked client; returns its record.

        The counts follow :func:`~tokenbudget.calculate_cost` (same names, same
        conventions, same price): ``units`` are per-unit billables such as
        ``{"web_search_requests": 2}``. Counts must be ints from 0 to
        1,000,000,000: anything else raises ``TypeError`` or ``ValueError`` and
        nothing is recorded.
        """
        usage = make_usage(
            input_tokens=prompt_tokens,
            output_tokens=completion_tokens,
            cached_input_tokens=cached_input_tokens,
            cache_write_tokens=cache_write_tokens,
            cache_write_1h_tokens=cache_write_1h_tokens,
            reasoning_tokens=reasoning_tokens,
            audio_input_tokens=audio_input_tokens,
            audio_output_tokens=audio_output_tokens,
            image_input_tokens=image_input_tokens,
            image_output_tokens=image_output_tokens,
            extra=units_mapping(units),
        )
        check_usage(usage)
        now = datetime.now(timezone.utc)
        record = CallRecord(
            timestamp=now,
            provider=provider or self._prices.provider_of(model),
            model=model,
            endpoint=endpoint,
            usage=usage,
            cost_usd=self._prices.cost(provider, model, usage, service_tier, batch, now),
            request_model=model,
            service_tier=service_tier,
            tags={**current_tags(), **(tags or {})},
            price_version=self._prices.version(),
        )
        self.add_record(record)
        return record

    # -- what the transports and exchanges call ------------------------------------------

    def begin(self, request: RequestView) -> Exchange | None:
        """The exchange that tracks ``request``, or ``None`` to pass it through untouched.

        Called by the tracking transports for every request. A subclass may
        hand a request to another tracker or decline it.
        """
        try:
            endpoint = self._registry.match(request)
        except Exception:
            warn_once(
                f"match:{request.host}",
                "tokenbudget: could not inspect a request to %s; passing it through untracked",
                request.host,
            )
            logger.debug("match failure", exc_info=True)
            return None
        if endpoint is None:
            return None
        if endpoint.via is not None:  # a gateway or local server: priced by model name
            price_by_model(endpoint, self._prices)
        # Positional: a class called with keywords builds a dict for them, on every call.
        return Exchange(
            self._ports, endpoint, request, self, tags_in_force(), self.inject_stream_usage
        )

    def admit(self, exchange: Exchange) -> Sequence[CallGuard]:
        """Hold ``exchange`` in every budget covering it; raises when one refuses it.

        Called through the exchange's ports before a request is sent. A
        subclass may add gates of its own around it.
        """
        if not (self.budgets or active_budgets()):
            return ()  # the usual case: nothing to hold
        return hold(exchange, covering(self, self.budgets))

    def may_refuse(self) -> bool:
        """True when a call begun now may be refused: budgets cover this tracker or context.

        Asked by tracked clients for every request they build, so it must be cheap.
        """
        return bool(self.budgets or active_budgets())

    def refuse_early(self, exchange: Exchange) -> None:
        """Raise now the refusal :meth:`admit` would raise for ``exchange``; hold nothing.

        Called by tracked clients when they build a request, before an SDK
        sends it (and could wrap and retry a refusal raised while sending): a
        dry run of the budgets (``tokenbudget.budgets.would_refuse``). Returns
        when the call would be admitted, when the cache may answer it (a hit
        costs nothing), or when that cannot be told; :meth:`admit` decides
        again when the request is sent.
        """
        if type(self).admit is not TokenTracker.admit and (
            type(self).refuse_early is TokenTracker.refuse_early
        ):
            return  # a subclass's own gates: only its admit() knows them
        if self.cache_may_answer(exchange):
            return
        error = would_refuse(exchange, covering(self, self.budgets))
        if error is not None:
            raise error

    def cache_may_answer(self, exchange: Exchange) -> bool:
        """True when the cache may answer ``exchange`` (or cannot tell): never refuse it early.

        A cache hit costs nothing, so only the transport, after its lookup, may refuse it.
        """
        cache = exchange.ports.cache
        if cache is None:
            return False
        may_answer = getattr(cache, "may_answer", None)
        return may_answer is None or bool(may_answer(exchange))


def _admit_once_budgets_exist(tracker: TokenTracker) -> None:
    """Take admission off ``tracker``'s calls until the process has a budget: without one,
    :meth:`TokenTracker.admit` holds nothing."""
    if not budgets_exist():
        tracker._ports = replace(tracker._ports, admit=None)
        when_budgets_exist(_admit_from_now, owner=tracker)  # (now, if one came meanwhile)


def _admit_from_now(tracker: TokenTracker) -> None:
    """The process has a budget: ``tracker``'s calls are admitted from now on."""
    tracker._ports = replace(tracker._ports, admit=tracker.admit)


_default_lock = threading.Lock()
renew_after_fork(sys.modules[__name__], "_default_lock", threading.Lock)
_default: list[TokenTracker] = []


def get_tracker() -> TokenTracker:
    """The process-wide default tracker (created on first use)."""
    if not _default:
        with _default_lock:
            if not _default:
                _default.append(TokenTracker(name="default"))
    return _default[0]
