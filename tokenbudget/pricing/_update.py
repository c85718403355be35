"""``tokenbudget prices update``: community prices merged into the curated data, never over it.

A community price list (LiteLLM's, converted by ``_litellm.py``) is planned
entry by entry against the built-in entry its id names (its id or one of its
aliases, in the same provider):

The built-in entry is found the way a call's model name is (``_names.py``):
exact name, then without path prefixes and snapshot suffixes, so a
community ``claude-sonnet-4-5-20250929`` is planned against the built-in
``claude-sonnet-4-5`` rather than added beside it.

1. **No built-in entry**: the model is *added* as the community gives it.
2. **Kept** (nothing written; the built-in data wins) when the id is a built-in
   dated alias (``mistral-large-latest``: the alias stays), when the built-in
   entry is ``unpriced`` (the provider publishes no price), when the built-in
   entry schedules a price change after today (the community cannot know it
   yet), or when the community price is **stale**: its input and output (and
   cached input, when both name one) equal a built-in price period that has
   already ended (DeepSeek's V3.2 prices, Gemini 4 Argon's introductory ones).
3. Otherwise the community entry is written under the built-in id with its
   prices applying **from the import date** (00:00 UTC) on. At load, the
   override layer merges it field by field over the built-in entry
   (``_merge.py``): every price the community names replaces today's plain
   price of the same name, every price it adds (a flex tier, a batch price the
   curated entry lacks) is filled in, and nothing is erased: earlier periods,
   peak windows, prompt-size tiers, service tiers, batch prices, extras,
   aliases and dated aliases stay. The built-in ``context_window`` and
   ``deprecated`` flag win when the built-in entry sets them. An entry whose
   merge changes none of today's prices is *unchanged* and not written.

When several community entries name one built-in model (its id and an
alias), the one with the model's own id wins, else the first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ._merge import merge_entry, period_at
from ._names import candidates, normalize
from ._schema import ModelEntry, Period, PriceFile

__all__ = ["PriceChange", "UpdatePlan", "plan_merge", "sheet_prices"]

_UTC = timezone.utc
_PLAIN = ("input", "output", "cached_input")


@dataclass(frozen=True)
class PriceChange:
    """What an update does to one model.

    ``status`` is ``added``, ``changed``, ``unchanged`` or ``kept`` (the
    built-in data wins; ``reason`` says why). ``prices`` lists
    ``(price, old, new)`` for today's prices that differ (``old`` is ``None``
    for a price the built-in entry lacked; for an added model, every price).
    """

    provider: str
    model: str
    status: str
    reason: str = ""
    prices: tuple[tuple[str, Decimal | None, Decimal | None], ...] = ()


@dataclass
class UpdatePlan:
    """The provider files to write and what each community entry does."""

    files: list[PriceFile] = field(default_factory=list)
    changes: list[PriceChange] = field(default_factory=list)

    def counts(self) -> dict[str, Counter[str]]:
        """Per provider, how many models are added, changed, unchanged and kept."""
        out: dict[str, Counter[str]] = {}
        for change in self.changes:
            out.setdefault(change.provider, Counter())[change.status] += 1
        return out

    @property
    def written(self) -> int:
        """How many models the plan writes (added plus changed)."""
        return sum(len(file.models) for file in self.files)


def plan_merge(
    imported: Iterable[PriceFile],
    builtin: Callable[[str], PriceFile | None],
    *,
    now: datetime | None = None,
) -> UpdatePlan:
    """Plan the merge of community ``imported`` files into ``builtin(provider)`` (module rules)."""
    moment = now or datetime.now(_UTC)
    plan = UpdatePlan()
    for file in imported:
        curated = builtin(file.provider)
        written = _plan_provider(file, curated, moment, plan.changes)
        if written:
            # Validated again, so a plan that would not load back fails here, not at load.
            data = file.model_dump(by_alias=True, exclude_unset=True, exclude={"models"})
            plan.files.append(PriceFile.model_validate({**data, "models": written}))
    return plan


def _plan_provider(
    file: PriceFile, curated: PriceFile | None, now: datetime, changes: list[PriceChange]
) -> list[ModelEntry]:
    names: dict[str, ModelEntry] = {}
    dated: set[str] = set()
    if curated is not None:
        for entry in curated.models:
            for name in entry.names():
                names[normalize(name)] = entry
        dated = {normalize(alias.alias) for alias in curated.dated_aliases}

    def curated_model(name: str) -> ModelEntry | None:
        """The built-in model a name resolves to: exact, snapshot, path or alias."""
        return next((names[key] for key in candidates(name) if key in names), None)

    def own_id_first(entry: ModelEntry) -> bool:
        base = curated_model(entry.id)
        return not (base is not None and normalize(base.id) == normalize(entry.id))

    # A community entry with the built-in model's own id goes first, so it wins over an alias.
    ordered = sorted(file.models, key=own_id_first)
    written: list[ModelEntry] = []
    done: set[str] = set()
    for entry in ordered:
        key = normalize(entry.id)
        provider = file.provider
        if key in dated:
            changes.append(PriceChange(provider, entry.id, "kept", "a dated alias of the data"))
            continue
        base = curated_model(entry.id)
        if base is None:
            written.append(entry)
            changes.append(PriceChange(provider, entry.id, "added", "", _added(entry)))
            continue
        if base.id.lower() in done:
            reason = f"another name of {base.id}, planned once"
            changes.append(PriceChange(provider, entry.id, "kept", reason))
            continue
        done.add(base.id.lower())
        change, merged = _plan_entry(provider, base, entry, now)
        changes.append(change)
        if merged is not None:
            written.append(merged)
    return written


def _plan_entry(
    provider: str, base: ModelEntry, entry: ModelEntry, now: datetime
) -> tuple[PriceChange, ModelEntry | None]:
    """The change one community entry makes to a built-in one, and the entry to write."""
    if base.unpriced is not None:
        return PriceChange(provider, base.id, "kept", "the data says it has no price"), None
    if entry.unpriced is not None or not entry.prices:
        return PriceChange(provider, base.id, "kept", "the community gives no price"), None
    start = datetime.combine(entry.checked, datetime.min.time(), _UTC)
    at = max(now, start)
    if any(p.from_ is not None and p.from_ > at for p in base.prices):
        return PriceChange(provider, base.id, "kept", "the data schedules a price change"), None
    offer = entry.prices[-1]
    ended = _ended_match(base.prices, offer, at)
    if ended is not None:
        return PriceChange(provider, base.id, "kept", f"stale: {ended}"), None
    candidate = _candidate(base, entry, offer, start)
    merged = merge_entry(base, candidate)
    before = sheet_prices(period_at(base.prices, at))
    after = sheet_prices(period_at(merged.prices, at))
    diff = tuple(
        (name, before.get(name), after.get(name))
        for name in after
        if before.get(name) != after.get(name)
    )
    if not diff:
        return PriceChange(provider, base.id, "unchanged"), None
    return PriceChange(provider, base.id, "changed", "", diff), candidate


def _candidate(base: ModelEntry, entry: ModelEntry, offer: Period, start: datetime) -> ModelEntry:
    """The community entry as written: the built-in id, its prices from ``start`` on."""
    data: dict[str, Any] = entry.model_dump(by_alias=True, exclude_unset=True)
    for name in ("context_window", "deprecated"):
        if name in base.model_fields_set:
            data.pop(name, None)
    data["id"] = base.id
    data.pop("aliases", None)
    data["prices"] = [{**offer.model_dump(by_alias=True, exclude_unset=True), "from": start}]
    day = start.date().isoformat()
    data["note"] = (
        f"Prices from {day} merged from {entry.source}; earlier prices and everything it does"
        f" not name: {base.source} (checked {base.checked.isoformat()})."
    )
    return ModelEntry.model_validate(data)


def _ended_match(history: list[Period], offer: Period, at: datetime) -> str | None:
    """A description of the ended period whose plain prices ``offer`` repeats, if any."""
    current = period_at(history, at)
    for index, period in enumerate(history[:-1]):
        end = history[index + 1].from_
        if period is current or end is None or end > at:
            continue
        compared = [n for n in _PLAIN if getattr(period, n) is not None and getattr(offer, n)]
        if {"input", "output"} <= set(compared) and all(
            getattr(period, n) == getattr(offer, n) for n in compared
        ):
            if current is not None and all(
                getattr(current, n) == getattr(offer, n) for n in compared
            ):
                return None
            ended = (end - timedelta(microseconds=1)).date().isoformat()
            return f"repeats the prices that ended on {ended}"
    return None


def _added(entry: ModelEntry) -> tuple[tuple[str, Decimal | None, Decimal | None], ...]:
    prices = sheet_prices(entry.prices[-1] if entry.prices else None)
    return tuple((name, None, value) for name, value in prices.items())


def sheet_prices(period: Period | None) -> dict[str, Decimal]:
    """Every price of a period, flat: ``input``, ``batch.input``, ``service_tiers.flex.output``,
    ``tiers>200000.input``, ``windows[16:30-00:30].input``, ``extra.web_search_requests``.
    """
    if period is None:
        return {}
    out: dict[str, Decimal] = {}
    _flatten(period.model_dump(exclude_unset=True, exclude={"from_"}), "", out)
    return out


def _flatten(node: dict[str, Any], prefix: str, out: dict[str, Decimal]) -> None:
    for key, value in node.items():
        if isinstance(value, Decimal):
            out[prefix + key] = value
        elif isinstance(value, dict):
            _flatten(value, f"{prefix}{key}.", out)
        elif key == "tiers" and isinstance(value, list):
            for tier in value:
                rest = {k: v for k, v in tier.items() if k != "above"}
                _flatten(rest, f"{prefix}tiers>{tier['above']}.", out)
        elif key == "windows" and isinstance(value, list):
            for window in value:
                rest = {k: v for k, v in window.items() if k != "utc"}
                _flatten(rest, f"{prefix}windows[{window['utc']}].", out)
