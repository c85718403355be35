"""``TokenTracker``: the object users hold; it owns a ledger and builds tracked clients."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from ._data import CallRecord, Usage, UsageSummary
from ._exchange import Exchange, warn_once
from ._families import family_of, get_family
from ._hooks import CallGuard, ResponseCache
from ._instrument import building_own_client, instrument_client, tracked_copy, wrap_transport
from ._ledger import DEFAULT_MAX_RECORDS, Ledger, RecordCallback
from ._tags import current_tags
from ._tags import tag as _tag
from .budgets import Budget, active_budgets
from .budgets._gate import admit as _admit_budgets
from .budgets._gate import tracker_budgets as _tracker_budgets
from .cache import build_cache as _build_cache
from .cache import cache_stats as _cache_stats
from .cache import no_cache as _no_cache
from .cache import refresh_cache as _refresh_cache
from .providers._base import Provider, RequestView
from .providers._registry import ProviderRegistry, default_registry
from .reports._history import TrackerHistory

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import timedelta

    from .cache import CacheOption, CacheStats
    from .pricing import PriceBook
    from .store import StoreSpec

__all__ = ["TokenTracker", "get_tracker"]

logger = logging.getLogger("tokenbudget")

C = TypeVar("C")


class TokenTracker(TrackerHistory):
    """Tracks tokens and cost of every LLM call made through its clients.

    >>> tracker = TokenTracker()
    >>> client = openai.OpenAI(http_client=tracker.httpx_client())  # doctest: +SKIP

    Args:
        prices: a price override file (LiteLLM or tokenbudget format) or a
            ``PriceBook``; default: the built-in prices plus ``$TOKENBUDGET_PRICES``.
        inject_stream_usage: ask OpenAI and Azure for usage on streamed chat calls
            that did not ask for it, hiding the extra chunk from the caller.
        hosts: extra hosts to track, e.g. ``{"localhost:8000": "openai"}`` for a
            gateway or local server speaking a known provider's API.
        max_records: how many recent call records to keep in memory; totals are
            always exact over every call.
        on_record: a callback run with each :class:`CallRecord`.
        cache: answer identical calls from stored responses: ``"memory"``,
            ``"disk"``, a backend or a ``tokenbudget.cache.CallCache``; ``None``: off.
        cache_dir: where ``cache="disk"`` keeps answers (default
            ``$TOKENBUDGET_CACHE_DIR`` or ``~/.cache/tokenbudget``).
        cache_ttl: seconds (or a ``timedelta``) an answer is served for; ``None``: forever.
        cache_max_entries: at most this many answers in the memory cache.
        cache_ignore_fields: request body fields that do not change the answer
            (``"user"``, ``"metadata.user_id"``).
        store: keep every call in a usage store that outlives the process:
            ``"usage.db"`` (a SQLite file), ``"sqlite:///path"``,
            ``"redis://host:6379/0"`` (counters shared by many machines), or a
            ``tokenbudget.store.UsageStore``; ``tracker.usage`` then starts from
            the store's totals. History methods: ``tokenbudget/reports/_history.py``.
        max_cost_usd, max_tokens: a budget on every call of this tracker, in every
            context (``tracker.budgets[0]``); see :func:`tokenbudget.budget`.
        budgets: more tracker-wide budgets, e.g. ``[budget(max_cost_usd=5, per="day")]``.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        prices: str | os.PathLike[str] | PriceBook | None = None,
        inject_stream_usage: bool = True,
        hosts: Mapping[str, str | Provider] | None = None,
        max_records: int | None = DEFAULT_MAX_RECORDS,
        on_record: RecordCallback | None = None,
        cache: CacheOption = None,
        cache_dir: str | os.PathLike[str] | None = None,
        cache_ttl: float | timedelta | None = None,
        cache_max_entries: int | None = None,
        cache_ignore_fields: Iterable[str] = (),
        store: StoreSpec | None = None,
        max_cost_usd: Decimal | float | str | None = None,
        max_tokens: int | None = None,
        budgets: Iterable[Budget] = (),
    ) -> None:
        self.name = name
        self.inject_stream_usage = inject_stream_usage
        self._ledger = Ledger(max_records)
        self._registry = ProviderRegistry(parent=default_registry)
        self._prices_arg = prices
        self._book: PriceBook | None = None
        self._book_lock = threading.Lock()
        #: The response cache (issue: caching); None when calls are never cached.
        self._cache: ResponseCache | None = _build_cache(
            cache,
            directory=cache_dir,
            ttl=cache_ttl,
            max_entries=cache_max_entries,
            ignore_fields=cache_ignore_fields,
        )
        for host, provider in (hosts or {}).items():
            self.register_host(host, provider)
        if on_record is not None:
            self.on_record(on_record)
        self._open_store(store)
        #: Budgets every call of this tracker is held to, in every context.
        self.budgets: list[Budget] = _tracker_budgets(name, max_cost_usd, max_tokens, budgets)

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<TokenTracker{label} {self.usage!r}>"

    # -- results -----------------------------------------------------------------

    @property
    def usage(self) -> UsageSummary:
        """Totals over every call recorded."""
        return self._ledger.summary()

    @property
    def usage_by_provider(self) -> dict[str, UsageSummary]:
        """Totals per provider."""
        return self._ledger.by_provider()

    @property
    def usage_by_model(self) -> dict[str, UsageSummary]:
        """Totals per billed model."""
        return self._ledger.by_model()

    def usage_by_tag(self, name: str | None = None) -> dict[str, UsageSummary]:
        """Totals per value of tag ``name`` (or per ``name=value`` over all tags)."""
        return self._ledger.by_tag(name)

    @property
    def total_cost(self) -> Decimal:
        """Exact cost of every priced call, in US dollars."""
        return self._ledger.summary().cost_usd

    @property
    def total_cost_usd(self) -> float:
        """:attr:`total_cost` as a float, for display."""
        return float(self.total_cost)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens of every call."""
        return self._ledger.summary().total_tokens

    @property
    def records(self) -> list[CallRecord]:
        """The most recent call records (``max_records`` of them), oldest first."""
        return self._ledger.records

    @property
    def last_record(self) -> CallRecord | None:
        """The most recent call record."""
        records = self._ledger.records
        return records[-1] if records else None

    def reset(self) -> None:
        """Forget every call recorded so far."""
        self._ledger.reset()

    def on_record(self, callback: RecordCallback) -> RecordCallback:
        """Run ``callback(record)`` after every call; usable as a decorator."""
        self._ledger.add_callback(callback)
        return callback

    def add_budget(self, budget: Budget) -> Budget:
        """Hold every call of this tracker, in every context, to ``budget``; returns it."""
        self.budgets.append(budget)
        return budget

    def tag(self, **labels: object) -> AbstractContextManager[Mapping[str, str]]:
        """Label the calls made in a ``with`` block: ``with tracker.tag(feature="search"):``."""
        return _tag(**labels)

    # -- response cache ------------------------------------------------------------

    @property
    def cache_stats(self) -> CacheStats:
        """Hits, misses, hit rate, entries and what the hits saved (zeros without a cache)."""
        return _cache_stats(self._cache, self.usage.saved_cost_usd)

    def clear_cache(self) -> None:
        """Forget every stored answer (the counters are kept)."""
        clear = getattr(self._cache, "clear", None)
        if clear is not None:
            clear()

    def no_cache(self) -> AbstractContextManager[None]:
        """This tracker's calls in a ``with`` block neither read nor fill the cache."""
        return _no_cache(tracker=self)

    def refresh_cache(self) -> AbstractContextManager[None]:
        """This tracker's calls in a ``with`` block skip the lookup and store fresh answers."""
        return _refresh_cache(tracker=self)

    # -- manual tracking ----------------------------------------------------------

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
        endpoint: str = "manual",
        tags: Mapping[str, str] | None = None,
    ) -> CallRecord:
        """Record a call made without a tracked client; returns its record."""
        usage = Usage(
            input_tokens=prompt_tokens,
            output_tokens=completion_tokens,
            cached_input_tokens=cached_input_tokens,
            cache_write_tokens=cache_write_tokens,
            cache_write_1h_tokens=cache_write_1h_tokens,
            reasoning_tokens=reasoning_tokens,
        )
        now = datetime.now(timezone.utc)
        provider_name = provider or self._guess_provider(model)
        record = CallRecord(
            timestamp=now,
            provider=provider_name,
            model=model,
            endpoint=endpoint,
            usage=usage,
            cost_usd=self._price(provider, model, usage, None, False, now),
            request_model=model,
            tags={**current_tags(), **(tags or {})},
            price_version=self._price_version,
        )
        self._record(record)
        return record

    def _guess_provider(self, model: str) -> str:
        try:
            found = self.prices.resolve(model)
        except Exception:
            found = None
        return getattr(found, "provider", None) or "unknown"

    # -- clients and transports ------------------------------------------------------

    def httpx_client(self, family: str | None = None, **kwargs: Any) -> Any:
        """A ready ``httpx2.Client`` (or ``httpx.Client``) whose calls are tracked.

        ``family`` is ``"httpx2"`` (default when installed) or ``"httpx"``.
        ``transport=X`` makes X the inner transport; other keywords go to the client.
        """
        return self._client(family, is_async=False, kwargs=kwargs)

    def async_httpx_client(self, family: str | None = None, **kwargs: Any) -> Any:
        """Async twin of :meth:`httpx_client`."""
        return self._client(family, is_async=True, kwargs=kwargs)

    def _client(self, family: str | None, *, is_async: bool, kwargs: dict[str, Any]) -> Any:
        inner = kwargs.get("transport")
        chosen = get_family(family) if family or inner is None else family_of(inner)
        if inner is not None and family_of(inner) is not chosen:
            other = family_of(inner).name
            raise ValueError(
                f"transport {type(inner).__name__} is an {other} transport; it cannot go "
                f"under an {chosen.name} client (pass family={other!r})"
            )
        module = chosen.module
        cls = module.AsyncClient if is_async else module.Client
        with building_own_client():
            client = cls(**kwargs)
        return instrument_client(client, self)

    def transport(self, inner: Any | None = None, family: str | None = None) -> Any:
        """A bare sync tracking transport around ``inner`` (default: a new HTTPTransport)."""
        if inner is not None:
            return wrap_transport(inner, self, is_async=False)
        return get_family(family).Transport(self)

    def async_transport(self, inner: Any | None = None, family: str | None = None) -> Any:
        """A bare async tracking transport around ``inner`` (default: a new AsyncHTTPTransport)."""
        if inner is not None:
            return wrap_transport(inner, self, is_async=True)
        return get_family(family).AsyncTransport(self)

    def instrument(self, http_client: C) -> C:
        """Track an existing httpx client in place (its transport and mounts)."""
        return instrument_client(http_client, self)

    def wrap_openai(self, client: C) -> C:
        """A copy of an ``openai.OpenAI``/``AsyncOpenAI`` client whose calls are tracked.

        The copy keeps the client's own http client settings and transport
        underneath the tracking; the original client is left untracked.
        """
        return self._wrap_stainless(client)

    def wrap_anthropic(self, client: C) -> C:
        """A copy of an ``anthropic.Anthropic`` (or async) client whose calls are tracked."""
        return self._wrap_stainless(client)

    def wrap_google(self, client: C) -> C:
        """A copy of a ``google.genai.Client`` whose calls (sync and ``.aio``) are tracked.

        The copy is built from the client's own settings, with tracked copies of
        its http clients given as ``http_options.httpx_client`` and
        ``httpx_async_client``; the original client is left untracked.
        """
        sdk: Any = client
        api = getattr(sdk, "_api_client", None)
        if api is None or not hasattr(api, "_http_options"):
            raise TypeError(f"expected a google.genai.Client, got {type(client).__name__}")
        options = api._http_options.model_copy()
        options.httpx_client = tracked_copy(api._httpx_client, self)
        if getattr(api, "_async_httpx_client", None) is not None:
            options.httpx_async_client = tracked_copy(api._async_httpx_client, self)
        client_class: Any = type(client)
        copy: C = client_class(
            vertexai=api.vertexai,
            api_key=api.api_key,
            credentials=api._credentials,
            project=api.project,
            location=api.location,
            http_options=options,
            debug_config=getattr(sdk, "_debug_config", None),
        )
        return copy

    def _wrap_stainless(self, client: C) -> C:
        sdk_client: Any = client
        http_client = getattr(sdk_client, "_client", None)
        if http_client is None or not hasattr(sdk_client, "with_options"):
            raise TypeError(
                f"expected an SDK client with .with_options(), got {type(client).__name__}"
            )
        copy: C = sdk_client.with_options(http_client=tracked_copy(http_client, self))
        return copy

    def register_host(self, host: str, provider: str | Provider) -> None:
        """Track calls to ``host`` (``"name"`` or ``"name:port"``) as ``provider`` speaks.

        ``provider`` is a provider object or the name of a built-in one
        (``"openai"``, ``"azure"``...).
        """
        if isinstance(provider, str):
            found = self._registry.provider_named(provider)
            if found is None:
                raise ValueError(f"unknown provider {provider!r}")
            provider = found
        self._registry.register(provider, hosts=[host])

    # -- what the transport calls ----------------------------------------------------

    def _begin(self, request: RequestView) -> Exchange | None:
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
        return Exchange(self, endpoint, request)

    def _admit(self, exchange: Exchange) -> Sequence[CallGuard]:
        """The guards of every budget covering ``exchange``; raises when one refuses it."""
        if not self.budgets and not active_budgets():
            return ()  # the usual case: nothing to hold
        return _admit_budgets(exchange, self.budgets)

    @property
    def prices(self) -> PriceBook:
        """The price book this tracker prices calls with."""
        book = self._book
        if book is None:
            with self._book_lock:
                if self._book is None:
                    self._book = _load_book(self._prices_arg)
                book = self._book
        return book

    @property
    def _price_version(self) -> str | None:
        try:
            return self.prices.version
        except Exception:
            return None

    def _price(
        self,
        provider: str | None,
        model: str | None,
        usage: Usage,
        service_tier: str | None,
        batch: bool,
        at: datetime,
    ) -> Decimal | None:
        if model is None:
            return usage.reported_cost_usd
        try:
            cost = self.prices.cost(
                provider, model, usage, service_tier=service_tier, batch=batch, at=at
            )
        except Exception:
            warn_once(f"price:{provider}:{model}", "tokenbudget: pricing %s failed", model)
            logger.debug("pricing failure", exc_info=True)
            return None
        if cost is None:
            warn_once(
                f"unpriced:{provider}:{model}",
                "tokenbudget: no price known for %s model %r; its calls are recorded "
                "as unpriced (register_model() or a price file adds it)",
                provider,
                model,
            )
        return cost

    def _record(self, record: CallRecord) -> None:
        self._ledger.record(record)


def _load_book(prices: Any) -> PriceBook:
    if prices is not None and hasattr(prices, "cost"):
        book: PriceBook = prices  # a PriceBook, or anything with its interface
        return book
    from .pricing import PriceBook

    if prices is None:
        return PriceBook.default()
    return PriceBook.load(prices)


_default_lock = threading.Lock()
_default: list[TokenTracker] = []


def get_tracker() -> TokenTracker:
    """The process-wide default tracker (created on first use)."""
    if not _default:
        with _default_lock:
            if not _default:
                _default.append(TokenTracker(name="default"))
    return _default[0]
