"""The pydantic schema of price data files, validated once at load.

A provider file (``data/<provider>.json``) holds one :class:`PriceFile`. An
override file (``$TOKENBUDGET_PRICES``) holds an :class:`OverrideFile`: several
provider files in one document. All prices are US dollars **per 1M tokens**,
except ``extra`` prices, which are dollars **per unit** (e.g. per web search).
Prices are written as JSON strings (``"2.5"``) so no float ever touches them.

Per-1M prices of token kinds that are parts of input or output
(``input_audio``, ``output_audio``, ``input_image``, ``output_image``,
``reasoning``) replace the text price for those tokens: the engine bills
``count * (part price - text price)`` on top of the input or output total, so a
model without them costs exactly what it did (and pays nothing for the check).
``reasoning`` is for hosts that bill reasoning apart from the answer
(Perplexity's ``sonar-deep-research``: $3 against $8 output); OpenAI, Anthropic
and Gemini bill reasoning as output and leave it unset.

``extra`` units (per-unit prices, matched by name against ``Usage.extra``; the
readers fill them, ``calculate_cost(units=...)`` and ``tracker.track(units=...)``
take them from users):

- ``web_search_requests``: one per web search the provider ran (Anthropic
  ``server_tool_use``, OpenAI Responses ``web_search_call`` items, OpenAI chat
  search models one per request, Gemini grounded prompts or search queries,
  Perplexity ``num_search_queries``).
- ``file_search_requests``: one per OpenAI ``file_search_call``.
- ``requests``: a flat fee per request, whatever its size.
- ``requests_low``, ``requests_medium``, ``requests_high``: a fee per request
  that depends on the request's ``search_context_size`` (Perplexity Sonar); the
  reader counts the call under the size the answer reports.
- ``search_sources``: xAI Live Search sources.

Semantics, enforced by the engine (``_model.py``, ``_period.py``, ``_rates.py``):

- ``input`` is the price of prompt tokens that are neither cache reads nor
  cache writes; ``cached_input`` defaults to ``input``, ``cache_write`` to
  ``input`` and ``cache_write_1h`` to ``cache_write``.
- ``tiers``: when the request's prompt (all input tokens, cached included)
  exceeds ``above`` tokens, the whole request is billed at the tier's prices.
  A tier may only name prices its own sheet names.
- ``batch`` and ``service_tiers`` are partial sheets: a price they name replaces
  the base price (with its tiers); prices they omit keep the base price.
- ``windows`` are UTC times of day with their own partial sheet (peak pricing).
- ``prices`` is a history: each period applies from its ``from`` date until the
  next period's; only the first may omit ``from``.
- ``dated_aliases`` (of a provider file): names that mean different models over
  time (``mistral-large-latest``). Each target applies from its ``from`` date
  until the next one's, like price periods, and is priced with its own history.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "RATE_FIELDS",
    "AliasTarget",
    "DatedAlias",
    "ModelEntry",
    "OverrideFile",
    "Period",
    "PriceFile",
    "Rates",
    "Sheet",
    "Tier",
    "Window",
]

#: Per-1M-token price fields of a sheet, in display order.
RATE_FIELDS = (
    "input",
    "output",
    "cached_input",
    "cache_write",
    "cache_write_1h",
    "input_audio",
    "output_audio",
    "input_image",
    "output_image",
    "reasoning",
)

Money = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_PROVIDER = r"^[a-z0-9][a-z0-9._-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _date_to_datetime(value: object) -> object:
    """A ``from`` date means its midnight UTC."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return value


def _utc(value: datetime | None) -> datetime | None:
    """A naive ``from`` date-time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _check_history(dates: list[datetime | None], what: str) -> None:
    """Only the first may omit ``from``; the others strictly increase."""
    if any(d is None for d in dates[1:]):
        raise ValueError(f"only the first {what} may omit 'from'")
    known = [d for d in dates if d is not None]
    if known != sorted(set(known)) or len(known) != len(set(known)):
        raise ValueError(f"{what}s must have strictly increasing 'from' dates")


class Rates(_Strict):
    """A set of prices: per 1M tokens, and per unit for ``extra``."""

    input: Money | None = None
    output: Money | None = None
    cached_input: Money | None = None
    cache_write: Money | None = None
    cache_write_1h: Money | None = None
    input_audio: Money | None = None
    output_audio: Money | None = None
    input_image: Money | None = None
    output_image: Money | None = None
    reasoning: Money | None = None
    extra: dict[str, Money] = Field(default_factory=dict)

    def named(self) -> set[str]:
        """The price fields this sheet sets (``extra`` keys as ``extra.KEY``)."""
        names = {name for name in RATE_FIELDS if getattr(self, name) is not None}
        return names | {f"extra.{key}" for key in self.extra}


class Tier(Rates):
    """Prices for a request whose prompt exceeds ``above`` tokens."""

    above: int = Field(gt=0)


class Sheet(Rates):
    """Prices plus prompt-size tiers."""

    tiers: list[Tier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_tiers(self) -> Sheet:
        thresholds = [tier.above for tier in self.tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tiers must have strictly increasing 'above' thresholds")
        own = self.named()
        for tier in self.tiers:
            stray = tier.named() - own
            if stray:
                raise ValueError(
                    f"tier above {tier.above} sets {sorted(stray)} which the sheet itself does not"
                )
        return self


class Window(Sheet):
    """A UTC time-of-day window (``"01:00-04:00"``; ``"16:30-00:30"`` wraps midnight)."""

    utc: str

    @field_validator("utc")
    @classmethod
    def _check_utc(cls, value: str) -> str:
        if not _WINDOW.match(value):
            raise ValueError("utc must look like 'HH:MM-HH:MM' (UTC, 24h)")
        return value

    def minutes(self) -> tuple[int, int]:
        """Start and end of the window in minutes after midnight UTC."""
        match = _WINDOW.match(self.utc)
        assert match is not None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return h1 * 60 + m1, h2 * 60 + m2


class Period(Sheet):
    """The prices of a model from a moment on, with their batch and tier variants.

    ``from`` is a date (midnight UTC) or an ISO date-time (naive means UTC).
    """

    from_: datetime | None = Field(default=None, alias="from")
    batch: Sheet | None = None
    service_tiers: dict[str, Sheet] = Field(default_factory=dict)
    windows: list[Window] = Field(default_factory=list)

    _from_date = field_validator("from_", mode="before")(_date_to_datetime)
    _from_utc = field_validator("from_")(_utc)

    @model_validator(mode="after")
    def _check_base(self) -> Period:
        if self.input is None or self.output is None:
            raise ValueError("a price period needs both 'input' and 'output' (write \"0\" if free)")
        for name in self.service_tiers:
            if name != name.lower() or not name:
                raise ValueError(f"service tier names are lower-case: {name!r}")
        return self


class ModelEntry(_Strict):
    """One model of one provider: names, provenance and price history."""

    id: str = Field(min_length=1)
    name: str | None = None
    aliases: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1)
    checked: date
    note: str | None = None
    deprecated: bool = False
    context_window: int | None = Field(default=None, gt=0)
    unpriced: str | None = None
    prices: list[Period] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_prices(self) -> ModelEntry:
        if self.unpriced is not None:
            if self.prices:
                raise ValueError("an 'unpriced' model cannot also have 'prices'")
            return self
        if not self.prices:
            raise ValueError("needs 'prices' (or 'unpriced' with the reason there is no price)")
        _check_history([period.from_ for period in self.prices], "price period")
        return self

    def names(self) -> list[str]:
        """The id followed by the aliases."""
        return [self.id, *self.aliases]


class AliasTarget(_Strict):
    """The model a dated alias means from ``from`` on (a date, or an ISO date-time; UTC)."""

    from_: datetime | None = Field(default=None, alias="from")
    model: str = Field(min_length=1)

    _from_date = field_validator("from_", mode="before")(_date_to_datetime)
    _from_utc = field_validator("from_")(_utc)


class DatedAlias(_Strict):
    """A name that means different models over time, such as ``mistral-large-latest``.

    Each target applies from its ``from`` until the next target's; only the
    first may omit ``from`` (it then also applies before any later date). A
    call is priced at the target of its own date, with that model's prices.
    """

    alias: str = Field(min_length=1)
    source: str = Field(min_length=1)
    note: str | None = None
    targets: list[AliasTarget] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_targets(self) -> DatedAlias:
        _check_history([target.from_ for target in self.targets], "alias target")
        for target in self.targets:
            if target.model.strip().lower() == self.alias.strip().lower():
                raise ValueError(f"alias {self.alias!r} cannot point at itself")
        return self


class PriceFile(_Strict):
    """All models of one provider, and its dated aliases."""

    provider: str = Field(pattern=_PROVIDER)
    name: str = Field(min_length=1)
    pricing_url: str = Field(min_length=1)
    batch_multiplier: Money | None = None
    note: str | None = None
    models: list[ModelEntry]
    dated_aliases: list[DatedAlias] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_unique(self) -> PriceFile:
        seen: dict[str, str] = {}
        owned = [(entry.id, entry.names()) for entry in self.models]
        owned += [(f"dated alias {a.alias}", [a.alias]) for a in self.dated_aliases]
        for owner, names in owned:
            for name in names:
                key = name.lower()
                if key in seen:
                    raise ValueError(
                        f"name {name!r} of model {owner!r} is already used by {seen[key]!r}"
                    )
                seen[key] = owner
        return self


class OverrideFile(_Strict):
    """A user price file: several providers' models layered over the built-in data."""

    format: Literal["tokenbudget-prices/1"]
    generated: datetime | None = None
    source: str | None = None
    providers: list[PriceFile]
