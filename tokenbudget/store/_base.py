"""The usage store interface: where call records outlive the process.

A store keeps every call record it is given and answers totals over a time
range, a provider, a model and tags. :class:`SQLiteStore` is the embedded
default; a store for many machines (Redis counters per provider, model, tag and
day) implements the same interface. A store that keeps only counters cannot
list calls or reprice them: its :meth:`UsageStore.records` and
:meth:`UsageStore.reprice` raise :class:`NotImplementedError`, and exports and
``reprice`` say so.

Stores are written by :class:`~tokenbudget.store.StoreWriter` on a background
thread (see there), never on the caller's LLM call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType

from .._data import CallRecord, UsageSummary
from ._query import Query
from ._reprice import Pricer, RepriceResult

__all__ = ["StoreError", "UsageAggregates", "UsageStore"]


class StoreError(Exception):
    """A store cannot be opened, read or written (corrupt, not ours, too new, unreachable).

    ``transient`` says whether the store itself failed (full, locked, away:
    the same records may be written later) or the records did (a value the
    store cannot hold: writing them again would fail again).
    """

    def __init__(self, *args: object, transient: bool = True) -> None:
        super().__init__(*args)
        self.transient = transient


def _empty() -> Mapping[str, UsageSummary]:
    return MappingProxyType({})


@dataclass(frozen=True)
class UsageAggregates:
    """Every total a ledger keeps: overall, per provider, model, ``(tag, value)`` and UTC day."""

    total: UsageSummary = field(default_factory=UsageSummary)
    by_provider: Mapping[str, UsageSummary] = field(default_factory=_empty)
    by_model: Mapping[str, UsageSummary] = field(default_factory=_empty)
    by_tag: Mapping[tuple[str, str], UsageSummary] = field(
        default_factory=lambda: MappingProxyType({})
    )
    by_day: Mapping[str, UsageSummary] = field(default_factory=_empty)


class UsageStore(ABC):
    """Persistent call records. Implementations must be thread-safe.

    ``url`` names the store in messages (``sqlite:///abs/path/usage.db``).
    """

    url: str = ""

    @abstractmethod
    def append(self, records: Sequence[CallRecord]) -> None:
        """Persist ``records``, all or none (raises on failure; the writer retries)."""

    @abstractmethod
    def summary(self, query: Query | None = None) -> UsageSummary:
        """Totals over the calls ``query`` keeps (every call by default)."""

    @abstractmethod
    def breakdown(self, by: str, query: Query | None = None) -> dict[str, UsageSummary]:
        """Totals per ``provider``, ``model``, UTC ``day``, ``tag`` or ``tag:NAME``.

        ``tag`` keys are ``name=value`` (a call with two tags counts in both);
        ``tag:NAME`` keys are the values of tag NAME (calls without it are left out).
        """

    def records(self, query: Query | None = None) -> Iterator[CallRecord]:
        """The calls ``query`` keeps, oldest first (stores of counters cannot list them)."""
        raise NotImplementedError(f"{type(self).__name__} keeps totals only, not call records")

    def reprice(
        self,
        price: Pricer,
        *,
        price_version: str | None,
        dry_run: bool = False,
        force: bool = False,
    ) -> RepriceResult:
        """Recompute stored costs with ``price``; see :class:`~tokenbudget.store.SQLiteStore`."""
        raise NotImplementedError(f"{type(self).__name__} cannot reprice past calls")

    def aggregates(self) -> UsageAggregates:
        """Every total a ledger keeps, over the whole store (to seed a tracker's totals)."""
        by_tag: dict[tuple[str, str], UsageSummary] = {}
        for key, summary in self.breakdown("tag").items():
            name, _, value = key.partition("=")
            by_tag[(name, value)] = summary
        return UsageAggregates(
            total=self.summary(),
            by_provider=self.breakdown("provider"),
            by_model=self.breakdown("model"),
            by_tag=by_tag,
            by_day=self.breakdown("day"),
        )

    @abstractmethod
    def close(self) -> None:
        """Release the store's resources; idempotent."""

    def __enter__(self) -> UsageStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
