"""Compiled prices and the cost arithmetic of the hot path.

The schema objects are turned once into small slotted objects holding
``Decimal`` prices per 1M tokens with every default already applied, so pricing
one call is a handful of integer-times-Decimal products and no lookups beyond
attribute access. The dollar total is scaled by 10^-6 once at the end, which is
exact in decimal arithmetic: no float ever takes part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import MAX_PREC, Context, Decimal

from .._data import Usage, plain_decimal
from ._schema import RATE_FIELDS, Rates, Sheet

__all__ = ["CompiledRates", "CompiledSheet", "compile_sheet", "merge_sheet"]

_ZERO = Decimal(0)
#: Precision enough that dropping trailing zeros never rounds.
_EXACT = Context(prec=MAX_PREC)


class CompiledRates:
    """One full set of per-1M prices (defaults applied) plus per-unit extras.

    The ``Decimal`` attributes are the prices per 1M tokens. For speed, the hot
    path works on integers: every price times ``10**scale`` (the smallest power
    that makes them all whole), so pricing a call is integer products and one
    ``int * Decimal`` at the end, exact to the last digit.
    """

    __slots__ = (
        "_cached",
        "_extra",
        "_in",
        "_minus_ten",
        "_modal",
        "_out",
        "_ten",
        "_unit",
        "_write",
        "_write_1h",
        "cache_write",
        "cache_write_1h",
        "cached_input",
        "extra",
        "input",
        "input_audio",
        "input_image",
        "output",
        "output_audio",
        "output_image",
        "reasoning",
    )

    def __init__(self, rates: Mapping[str, Decimal | None], extra: Mapping[str, Decimal]) -> None:
        self.input: Decimal = rates.get("input") or _ZERO
        self.output: Decimal = rates.get("output") or _ZERO
        self.cached_input: Decimal = _pick(rates.get("cached_input"), self.input)
        self.cache_write: Decimal = _pick(rates.get("cache_write"), self.input)
        self.cache_write_1h: Decimal = _pick(rates.get("cache_write_1h"), self.cache_write)
        self.input_audio = rates.get("input_audio")
        self.output_audio = rates.get("output_audio")
        self.input_image = rates.get("input_image")
        self.output_image = rates.get("output_image")
        self.reasoning = rates.get("reasoning")
        self.extra: dict[str, Decimal] = dict(extra)
        token_prices = [
            p
            for p in (
                self.input,
                self.output,
                self.cached_input,
                self.cache_write,
                self.cache_write_1h,
                self.input_audio,
                self.output_audio,
                self.input_image,
                self.output_image,
                self.reasoning,
            )
            if p is not None
        ]
        # Token prices are per 1M tokens, extras per unit (i.e. 10**6 times "larger").
        scale = max(
            [_decimals(p) for p in token_prices] + [_decimals(p) - 6 for p in self.extra.values()]
        )
        scale = max(scale, 0)
        self._unit = Decimal(1).scaleb(-(scale + 6))
        #: A cost is under $10 when its total in units of ``_unit`` is under this.
        self._ten = 10 ** (scale + 7)
        self._minus_ten = -self._ten
        self._in = _whole(self.input, scale)
        self._out = _whole(self.output, scale)
        self._cached = _whole(self.cached_input, scale)
        self._write = _whole(self.cache_write, scale)
        self._write_1h = _whole(self.cache_write_1h, scale)
        modal = (
            ("audio_input_tokens", self.input_audio, self.input),
            ("audio_output_tokens", self.output_audio, self.output),
            ("image_input_tokens", self.input_image, self.input),
            ("image_output_tokens", self.output_image, self.output),
            ("reasoning_tokens", self.reasoning, self.output),
        )
        self._modal = tuple(
            (field, _whole(price - text, scale))
            for field, price, text in modal
            if price is not None
        )
        self._extra = {unit: _whole(p, scale + 6) for unit, p in self.extra.items()}

    def cost(self, usage: Usage) -> Decimal:
        """Dollars for ``usage``: tokens and per-unit extras, exact, without trailing zeros."""
        cached = usage.cached_input_tokens
        write = usage.cache_write_tokens
        if cached or write or self._modal or usage.extra:
            return self._cost_of_parts(usage, cached, write)
        # The usual call: plain input and output tokens.
        uncached = usage.input_tokens
        total = (uncached * self._in if uncached > 0 else 0) + usage.output_tokens * self._out
        if self._minus_ten < total < self._ten:  # under $10: no positive exponent to fear
            return (total * self._unit).normalize(_EXACT)
        return plain_decimal(total * self._unit)

    def _cost_of_parts(self, usage: Usage, cached: int, write: int) -> Decimal:
        """:meth:`cost` of a usage with cache reads or writes, priced modalities or extras."""
        uncached = usage.input_tokens - cached - write
        total = uncached * self._in if uncached > 0 else 0
        if cached:
            total += cached * self._cached
        if write:
            write_1h = usage.cache_write_1h_tokens
            if write_1h:
                total += (write - write_1h) * self._write + write_1h * self._write_1h
            else:
                total += write * self._write
        total += usage.output_tokens * self._out
        if self._modal:
            for field, delta in self._modal:
                total += getattr(usage, field) * delta
        if usage.extra and self._extra:
            prices = self._extra
            for unit, count in usage.extra.items():
                price = prices.get(unit)
                if price is not None:
                    total += count * price
        if self._minus_ten < total < self._ten:
            return (total * self._unit).normalize(_EXACT)
        return plain_decimal(total * self._unit)

    def as_dict(self) -> dict[str, Decimal]:
        """The effective prices, per 1M tokens (extras per unit, as ``extra.KEY``)."""
        out = {
            "input": self.input,
            "output": self.output,
            "cached_input": self.cached_input,
            "cache_write": self.cache_write,
            "cache_write_1h": self.cache_write_1h,
        }
        for name in ("input_audio", "output_audio", "input_image", "output_image", "reasoning"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for unit, price in self.extra.items():
            out[f"extra.{unit}"] = price
        return out


def _decimals(value: Decimal) -> int:
    """How many digits ``value`` has after the decimal point (0 for whole numbers)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(-exponent, 0)


def _whole(value: Decimal, scale: int) -> int:
    """``value * 10**scale`` as an int (exact: ``scale`` covers every decimal)."""
    scaled = value.scaleb(scale)
    whole = int(scaled)
    assert whole == scaled, (value, scale)
    return whole


class CompiledSheet:
    """Base prices plus prompt-size tiers, highest threshold first."""

    __slots__ = ("base", "tiers")

    def __init__(self, base: CompiledRates, tiers: tuple[tuple[int, CompiledRates], ...]) -> None:
        self.base = base
        self.tiers = tiers

    def rates_for(self, input_tokens: int) -> CompiledRates:
        """The prices that apply to a request with this many prompt tokens."""
        for above, rates in self.tiers:
            if input_tokens > above:
                return rates
        return self.base

    def cost(self, usage: Usage) -> Decimal:
        """Dollars for ``usage`` at the prices of its prompt-size tier."""
        return self.rates_for(usage.input_tokens).cost(usage)

    def pricer(self) -> Callable[[Usage], Decimal]:
        """The cost function of this sheet: the base rates' own when it has no tiers."""
        return self.base.cost if not self.tiers else self.cost


#: One price field with its tiers: (base value, ((above, value), ...)).
_Field = tuple["Decimal | None", tuple[tuple[int, Decimal], ...]]


def _pick(value: Decimal | None, default: Decimal) -> Decimal:
    return default if value is None else value


def _fields_of(sheet: Sheet) -> dict[str, _Field]:
    """Explode a sheet into per-field (base, tiers) pairs; extras as ``extra.KEY``."""
    out: dict[str, _Field] = {}
    named = sheet.named()
    extras = sorted(name for name in named if name.startswith("extra."))
    # In a stable order (rates as declared, extras by name): price sheets print it.
    for name in [*(name for name in RATE_FIELDS if name in named), *extras]:
        base = _get(sheet, name)
        tiers = tuple(
            (tier.above, value) for tier in sheet.tiers if (value := _get(tier, name)) is not None
        )
        out[name] = (base, tiers)
    return out


def _get(rates: Rates, name: str) -> Decimal | None:
    if name.startswith("extra."):
        return rates.extra.get(name[6:])
    value: Decimal | None = getattr(rates, name)
    return value


def merge_sheet(base: dict[str, _Field], variant: Sheet | None) -> dict[str, _Field]:
    """Per-field prices of ``variant`` laid over ``base`` (a named field replaces the base's)."""
    merged = dict(base)
    if variant is not None:
        merged.update(_fields_of(variant))
    return merged


def base_fields(sheet: Sheet) -> dict[str, _Field]:
    """Per-field prices of a full sheet."""
    return _fields_of(sheet)


def compile_sheet(fields: dict[str, _Field], scale: Decimal | None = None) -> CompiledSheet:
    """Turn per-field prices into a sheet with one full rate set per threshold region.

    ``scale`` multiplies every token price (a provider-wide batch discount);
    per-unit extras are not scaled.
    """
    thresholds = sorted({above for _, tiers in fields.values() for above, _ in tiers})

    def rates_at(tokens: int | None) -> CompiledRates:
        token_rates: dict[str, Decimal | None] = {}
        extra: dict[str, Decimal] = {}
        for name, (base, tiers) in fields.items():
            value = base
            if tokens is not None:
                for above, tier_value in tiers:
                    if tokens > above:
                        value = tier_value
            if value is None:
                continue
            if name.startswith("extra."):
                extra[name[6:]] = value
            else:
                token_rates[name] = value * scale if scale is not None else value
        return CompiledRates(token_rates, extra)

    base = rates_at(None)
    tiers = tuple((above, rates_at(above + 1)) for above in reversed(thresholds))
    return CompiledSheet(base, tiers)
