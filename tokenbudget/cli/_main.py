"""The ``tokenbudget`` command line.

Each command is a function taking the parsed arguments and returning an exit
code, registered with :func:`command` together with a function that adds its
sub-parser, so adding a command is one decorated pair in one place::

    @command(add_prices_arguments)
    def prices(args: argparse.Namespace) -> int: ...

Errors the user can fix (an unknown model, a bad price file, a bad option)
print one line on stderr and exit non-zero; ``--help`` works on every command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TextIO

from ..pricing import PriceBook, PriceDataError, UnknownModelError
from ..pricing._data import default_override_path, read_json
from ..pricing._model import ModelPrice
from ..pricing._schema import RATE_FIELDS
from ..reports import ReportError
from ..store import StoreError
from . import _reports as reports_cli

__all__ = ["COMMANDS", "DEFAULT_LITELLM_URL", "command", "main"]

#: Where ``tokenbudget prices update`` fetches LiteLLM's community prices by default.
DEFAULT_LITELLM_URL = (
    "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
)

Handler = Callable[[argparse.Namespace], int]
AddParser = Callable[["argparse._SubParsersAction[CliParser]"], "CliParser"]


@dataclass(frozen=True)
class Command:
    """A registered command: its handler and the function adding its sub-parser."""

    name: str
    handler: Handler
    add_parser: AddParser


#: Registered commands, in the order ``--help`` lists them.
COMMANDS: list[Command] = []


def command(add_parser: AddParser) -> Callable[[Handler], Handler]:
    """Register ``handler`` as a command whose sub-parser ``add_parser`` builds."""

    def register(handler: Handler) -> Handler:
        COMMANDS.append(Command(handler.__name__, handler, add_parser))
        return handler

    return register


class CliError(Exception):
    """A problem the user can fix: printed as one line, exit code 1."""


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


# -- formatting -------------------------------------------------------------------------


def money(value: Decimal | None) -> str:
    """A Decimal without trailing zeros or exponent (``-`` for none)."""
    if value is None:
        return "-"
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """Print rows as left-aligned columns (first row is the header)."""
    if not rows:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            + "\n"
        )
        if index == 0:
            out.write("  ".join("-" * width for width in widths) + "\n")


def _flags(price: ModelPrice) -> str:
    if price.unpriced is not None:
        return "unpriced"
    period = price.entry.prices[-1]
    flags = []
    if period.tiers:
        flags.append("tiers>" + ",".join(f"{t.above // 1000}k" for t in period.tiers))
    if period.batch is not None or price.batch_multiplier is not None:
        flags.append("batch")
    flags.extend(sorted(period.service_tiers))
    if period.windows:
        flags.append("peak-hours")
    if len(price.entry.prices) > 1:
        flags.append("dated")
    if price.deprecated:
        flags.append("deprecated")
    return " ".join(flags)


def _book() -> PriceBook:
    return PriceBook.default()


# -- prices -----------------------------------------------------------------------------


def add_prices_arguments(sub: argparse._SubParsersAction[CliParser]) -> CliParser:
    """``tokenbudget prices [--provider P] [--search S]`` and ``prices update``."""
    parser = sub.add_parser(
        "prices",
        help="list models with their prices, or update the price override file",
        description="List known models with their prices per 1M tokens (US dollars).",
    )
    parser.add_argument("--provider", help="only this provider (e.g. openai, anthropic, groq)")
    parser.add_argument("--search", help="only models whose name contains this text")
    parser.add_argument("--all", action="store_true", help="include deprecated models")
    nested = parser.add_subparsers(dest="prices_command", metavar="{update}")
    update = nested.add_parser(
        "update",
        help="import LiteLLM's community prices into the override file",
        description=(
            "Import a LiteLLM model_prices_and_context_window.json (URL or file) into the user "
            "price override file. Its prices then win over the built-in data; register_model() "
            "wins over both."
        ),
    )
    update.add_argument(
        "--from",
        dest="source",
        default=DEFAULT_LITELLM_URL,
        metavar="URL_OR_FILE",
        help="where to read the LiteLLM JSON (default: LiteLLM's GitHub main branch)",
    )
    update.add_argument(
        "--output",
        type=Path,
        help=f"file to write (default: $TOKENBUDGET_PRICES, else {default_override_path()})",
    )
    update.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    update.set_defaults(handler=prices_update)
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
                _flags(price),
            ]
        )
    if len(rows) == 1:
        raise CliError(f"no model matches {args.search!r}" if needle else "no models")
    table(rows, sys.stdout)
    sys.stdout.write(f"\n{len(rows) - 1} models; prices in USD per 1M tokens ({book.version})\n")
    return 0


def prices_update(args: argparse.Namespace) -> int:
    """Fetch or read a LiteLLM price file and write it as the override file."""
    from ..pricing._litellm import import_litellm
    from ..pricing._schema import OverrideFile

    source: str = args.source
    raw = _fetch(source, args.timeout)
    files, stats = import_litellm(read_json(raw, source), origin=source)
    output: Path = args.output or default_override_path()
    document = OverrideFile(
        format="tokenbudget-prices/1",
        generated=datetime.now().astimezone(),
        source=source,
        providers=files,
    )
    text = document.model_dump_json(by_alias=True, exclude_defaults=True, indent=1)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(output.name + ".tmp")
    temporary.write_text(text + "\n", encoding="utf-8")
    os.replace(temporary, output)
    PriceBook._reset_default()
    skipped = stats.skipped_unpriced + stats.skipped_invalid + stats.skipped_duplicate
    print(
        f"wrote {stats.imported} models of {len(stats.providers)} providers to {output}"
        f" (skipped {skipped}: {stats.skipped_unpriced} without token prices,"
        f" {stats.skipped_invalid} invalid, {stats.skipped_duplicate} duplicate names)"
    )
    if not os.environ.get("TOKENBUDGET_PRICES") and output != default_override_path():
        print(f"note: set TOKENBUDGET_PRICES={output} to use it")
    return 0


def _fetch(source: str, timeout: float) -> bytes:
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(source, timeout=timeout, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise CliError(f"cannot fetch {source}: {exc}") from exc
        return response.content
    try:
        return Path(source).expanduser().read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror}") from exc


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
        table(_sheet_rows(found, period), out)
    return 0


_EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _sheet_rows(found: ModelPrice, period: Any) -> list[list[str]]:
    start: datetime = period.from_ or _EARLIEST
    day = (start + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    windows = [window.minutes() for window in period.windows]
    quiet = next(m for m in range(0, 1440, 5) if not any(_inside(m, w) for w in windows))
    at = day + timedelta(minutes=quiet)
    columns = [name for name in RATE_FIELDS if _any_set(period, name)]
    columns = list(
        dict.fromkeys(
            ["input", "output", "cached_input", "cache_write", "cache_write_1h", *columns]
        )
    )
    rows = [["VARIANT", *[c.upper().replace("_", " ") for c in columns], "EXTRA"]]
    variants: list[tuple[str, str | None, bool]] = [("standard", None, False)]
    if period.batch is not None or found.batch_multiplier is not None:
        variants.append(("batch", None, True))
    variants.extend((name, name, False) for name in period.service_tiers)
    thresholds = sorted(
        {t.above for t in period.tiers}
        | {t.above for s in period.service_tiers.values() for t in s.tiers}
        | ({t.above for t in period.batch.tiers} if period.batch else set())
    )
    for label, tier, batch in variants:
        for tokens, suffix in [(0, "")] + [(a + 1, f" >{a}") for a in thresholds]:
            rates = found.rates(at, service_tier=tier, batch=batch, input_tokens=tokens)
            if rates is None:
                continue
            values = rates.as_dict()
            extra = ", ".join(
                f"{k[6:]}={money(v)}" for k, v in values.items() if k.startswith("extra.")
            )
            rows.append([label + suffix, *[money(values.get(c)) for c in columns], extra])
    for window, (begin, _) in zip(period.windows, windows, strict=True):
        rates = found.rates(day + timedelta(minutes=begin))
        values = rates.as_dict() if rates else {}
        rows.append([f"{window.utc} UTC", *[money(values.get(c)) for c in columns], ""])
    return rows


def _inside(minute: int, window: tuple[int, int]) -> bool:
    start, end = window
    return start <= minute < end if start < end else (minute >= start or minute < end)


def _any_set(period: Any, name: str) -> bool:
    return getattr(period, name) is not None


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
    from ..pricing import calculate_cost

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


# -- report, reprice, demo (tokenbudget/reports/_commands.py) ----------------------------


@command(reports_cli.add_report_arguments)
def report(args: argparse.Namespace) -> int:
    """Print a usage report from a store or an export, optionally as HTML too."""
    return reports_cli.run_report(args)


@command(reports_cli.add_reprice_arguments)
def reprice(args: argparse.Namespace) -> int:
    """Recompute a store's costs with the current prices."""
    return reports_cli.run_reprice(args)


@command(reports_cli.add_demo_arguments)
def demo(args: argparse.Namespace) -> int:
    """Run the offline demo and print its report."""
    return reports_cli.run_demo(args)


# -- entry point ------------------------------------------------------------------------


def build_parser() -> CliParser:
    """The top-level parser with every registered command."""
    parser = CliParser(
        prog="tokenbudget",
        description="Token and cost tracking for LLM API calls.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)
    for registered in COMMANDS:
        child = registered.add_parser(sub)
        child.set_defaults(handler=registered.handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except (CliError, UnknownModelError, PriceDataError, ReportError, StoreError) as exc:
        sys.stderr.write(f"tokenbudget: error: {exc}\n")
        return 1
