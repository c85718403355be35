"""The price commands: ``prices`` (and ``prices update``), ``price`` and ``cost``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from ..pricing import PriceBook, UnknownModelError, calculate_cost
from ._format import money, price_flags, sheet_rows, table
from ._prices_diff import add_diff_parser
from ._prices_update import DEFAULT_LITELLM_URL, add_update_parser
from ._registry import CliError, CliParser, command

__all__ = ["DEFAULT_LITELLM_URL", "cost", "price", "prices"]


def _book() -> PriceBook:
    return PriceBook.default()


# -- prices -----------------------------------------------------------------------------


def add_prices_arguments(sub: argparse._SubParsersAction[CliParser]) -> CliParser:
    """``tokenbudget prices [--provider P] [--search S]``, ``prices update`` and ``prices diff``."""
    parser = sub.add_parser(
        "prices",
        help="list models with their prices; update the override file; diff another price list",
        description="List known models with their prices per 1M tokens (US dollars).",
    )
    parser.add_argument("--provider", help="only this provider (e.g. openai, anthropic, groq)")
    parser.add_argument("--search", help="only models whose name contains this text")
    parser.add_argument("--all", action="store_true", help="include deprecated models")
    nested = parser.add_subparsers(dest="prices_command", metavar="{update,diff}")
    add_update_parser(nested)
    add_diff_parser(nested)
    return parser


@command(add_prices_arguments)
def prices(args: argparse.Namespace) -> int:
    """Print a table of models and their prices."""
    book = _book()
    models = book.models(args.provider)
    if args.provider and not models:
        raise CliError(
            f"no prices for provider {args.provider!r}; known: {', '.join(book.providers())}"
        )
    needle = (args.search or "").lower()
    rows = [["PROVIDER", "MODEL", "INPUT", "OUTPUT", "CACHED", "CACHE WRITE", "NOTES"]]
    for key, price in sorted(models.items(), key=lambda kv: (kv[1].provider, kv[0].lower())):
        if needle and needle not in key.lower() and needle not in price.name.lower():
            continue
        if price.deprecated and not args.all and not needle:
            continue
        rates = price.rates()
        rows.append(
            [
                price.provider,
                price.model,
                money(rates.input if rates else None),
                money(rates.output if rates else None),
                money(rates.cached_input if rates else None),
                money(rates.cache_write if rates else None),
                price_flags(price),
            ]
        )
    if len(rows) == 1:
        raise CliError(f"no model matches {args.search!r}" if needle else "no models")
    table(rows, sys.stdout)
    sys.stdout.write(f"\n{len(rows) - 1} models; prices in USD per 1M tokens ({book.version})\n")
    return 0


# -- price ------------------------------------------------------------------------------


def add_price_arguments(sub: argparse._SubParsersAction[CliParser]) -> CliParser:
    """``tokenbudget price MODEL [--provider P] [--json]``."""
    parser = sub.add_parser(
        "price",
        help="show one model's full price sheet",
        description="Show every price of one model: tiers, batch, service tiers, history.",
    )
    parser.add_argument(
        "model", help="model name as the API reports it (snapshots and prefixes ok)"
    )
    parser.add_argument("--provider", help="provider serving the model (default: its maker)")
    parser.add_argument("--json", action="store_true", help="print the sheet as JSON")
    return parser


@command(add_price_arguments)
def price(args: argparse.Namespace) -> int:
    """Print one model's price sheet."""
    book = _book()
    found = book.resolve(args.model, args.provider)
    if found is None:
        raise UnknownModelError(
            args.model, args.provider, book.suggestions(args.model, args.provider)
        )
    if args.json:
        print(json.dumps(found.describe(), indent=2))
        return 0
    out = sys.stdout
    out.write(f"{found.name} ({found.provider}/{found.model})\n")
    if found.aliases:
        out.write(f"  also known as: {', '.join(found.aliases)}\n")
    out.write(f"  source: {found.source} (checked {found.checked.isoformat()}, {found.origin})\n")
    if found.note:
        out.write(f"  note: {found.note}\n")
    if found.unpriced is not None:
        out.write(f"  unpriced: {found.unpriced}\n")
        return 0
    out.write("  prices in USD per 1M tokens; extras per unit\n")
    for period in found.entry.prices:
        start = period.from_.isoformat() if period.from_ else "the start"
        out.write(f"\nfrom {start}:\n")
        table(sheet_rows(found, period), out)
    return 0


# -- cost -------------------------------------------------------------------------------


def add_cost_arguments(sub: argparse._SubParsersAction[CliParser]) -> CliParser:
    """``tokenbudget cost MODEL --input N --output M [...]``."""
    parser = sub.add_parser(
        "cost",
        help="price one call from its token counts",
        description=(
            "Price one call. --input counts every prompt token, cached and cache writes included; "
            "--output counts every output token, reasoning included."
        ),
    )
    parser.add_argument("model")
    parser.add_argument("--input", type=_count, default=0, metavar="N", help="prompt tokens")
    parser.add_argument("--output", type=_count, default=0, metavar="N", help="output tokens")
    parser.add_argument("--cached", type=_count, default=0, metavar="N", help="cache-read tokens")
    parser.add_argument(
        "--cache-write", type=_count, default=0, metavar="N", help="cache-write tokens"
    )
    parser.add_argument(
        "--cache-write-1h",
        type=_count,
        default=0,
        metavar="N",
        help="1-hour part of the cache writes",
    )
    parser.add_argument("--provider")
    parser.add_argument("--service-tier", help="e.g. flex, priority")
    parser.add_argument("--batch", action="store_true", help="price as a batch request")
    parser.add_argument("--at", type=_moment, help="ISO date or time of the call (default: now)")
    return parser


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a token count: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"token counts cannot be negative: {text!r}")
    return value


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r}") from None


@command(add_cost_arguments)
def cost(args: argparse.Namespace) -> int:
    """Print the cost of one call."""
    if args.cached + args.cache_write > args.input:
        raise CliError("--cached plus --cache-write cannot exceed --input (input includes them)")
    if args.cache_write_1h > args.cache_write:
        raise CliError("--cache-write-1h is part of --cache-write and cannot exceed it")
    total = calculate_cost(
        args.model,
        args.input,
        args.output,
        cached_input_tokens=args.cached,
        cache_write_tokens=args.cache_write,
        cache_write_1h_tokens=args.cache_write_1h,
        provider=args.provider,
        service_tier=args.service_tier,
        batch=args.batch,
        at=args.at,
    )
    found = _book().resolve(args.model, args.provider)
    where = f" ({found.provider}/{found.model})" if found else ""
    print(f"${money(total)}{where}")
    return 0
