"""The ``report``, ``reprice`` and ``demo`` commands.

Errors the user can fix raise :class:`ReportError` or
:class:`~tokenbudget.store.StoreError`; the command line prints them as one
line and exits 1. Bad options (``--since abc``) are argparse errors: exit 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO, TypeVar

from .._data import Usage
from ..reports import (
    ReportError,
    UsageSource,
    atomic_text,
    export_html,
    generate_table_report,
    make_query,
    open_source,
    write_csv,
    write_json,
)
from ..store import Query, check_grouping, open_store, to_utc
from ._registry import command

__all__ = [
    "add_demo_arguments",
    "add_report_arguments",
    "add_reprice_arguments",
    "demo",
    "parse_since",
    "report",
    "reprice",
]

P = TypeVar("P", bound=argparse.ArgumentParser)

_DURATION = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_BY_HELP = "group rows by provider, model, day, tag (name=value) or tag:NAME (default: %(default)s)"


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``7d``, ``12h``, ``30m``, ``2w``, ``today`` or an ISO date/time (UTC) -> the start time."""
    now = now or datetime.now(timezone.utc)
    value = text.strip().lower()
    if value == "today":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    match = _DURATION.match(value)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        return to_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a duration or time: {text!r} (use e.g. 7d, 12h, 30m, 2w, today or 2026-01-31)"
        ) from None


def _until(text: str) -> datetime:
    try:
        return to_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r}") from None


def _grouping(text: str) -> str:
    try:
        return check_grouping(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _tag(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return name, value


# -- report -----------------------------------------------------------------------------


def add_report_arguments(sub: argparse._SubParsersAction[P]) -> P:
    """``tokenbudget report SOURCE [--by ...] [--since 7d] [--format ...] [--html FILE]``."""
    parser = sub.add_parser(
        "report",
        help="show where the money went, from a usage store or an export",
        description=(
            "Report usage from a store (usage.db, sqlite:///path, postgresql://...) or a"
            " JSON/CSV export: "
            "a table, CSV or JSON on stdout, and optionally a one-file HTML page with charts."
        ),
    )
    parser.add_argument(
        "source",
        help="usage.db, sqlite:///path, postgresql://user@host/db, usage.json or usage.csv",
    )
    parser.add_argument("--by", type=_grouping, default="provider", help=_BY_HELP)
    parser.add_argument(
        "--since", type=parse_since, help="from this long ago (7d, 12h, 30m, 2w, today) or time"
    )
    parser.add_argument("--until", type=_until, help="up to this ISO date or time (UTC)")
    parser.add_argument("--provider", help="only this provider")
    parser.add_argument("--model", help="only this (billed) model")
    parser.add_argument(
        "--tag",
        type=_tag,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="only calls with this tag (repeatable)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="what to print: the table, every call as CSV, or the JSON export",
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="write there, not stdout")
    parser.add_argument(
        "--html", type=Path, metavar="FILE", help="also write a self-contained HTML report"
    )
    return parser


@command(add_report_arguments)
def report(args: argparse.Namespace) -> int:
    """Print (or write) the report of ``args.source``, optionally as HTML too."""
    tags: Mapping[str, str] = dict(args.tag)
    try:
        query = make_query(
            args.since, args.until, provider=args.provider, model=args.model, tags=tags
        )
    except ValueError as exc:
        raise ReportError(str(exc)) from exc
    with open_source(args.source) as source:
        try:
            _emit(source, args, query)
        except BrokenPipeError:  # `tokenbudget report ... | head`: the reader has enough
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
        if args.html is not None:
            export_html(source, args.html, args.by, **_filters(query))
            sys.stderr.write(f"wrote {args.html}\n")
    return 0


def _emit(source: UsageSource, args: argparse.Namespace, query: Query) -> None:
    if args.output is None:
        _write(source, args, query, sys.stdout)
        return
    with atomic_text(args.output, newline="" if args.format == "csv" else None) as out:
        _write(source, args, query, out)
    sys.stderr.write(f"wrote {args.output}\n")


def _write(source: UsageSource, args: argparse.Namespace, query: Query, out: TextIO) -> None:
    if args.format == "csv":
        write_csv(source.records(query), out)
    elif args.format == "json":
        write_json(source.records(query), out, source=source.label, query=query)
    else:
        out.write(generate_table_report(source, args.by, **_filters(query)))


def _filters(query: Query) -> dict[str, Any]:
    return {
        "start": query.start,
        "end": query.end,
        "provider": query.provider,
        "model": query.model,
        "tags": query.tags,
    }


# -- reprice ----------------------------------------------------------------------------


def add_reprice_arguments(sub: argparse._SubParsersAction[P]) -> P:
    """``tokenbudget reprice STORE [--prices FILE] [--dry-run] [--all]``."""
    parser = sub.add_parser(
        "reprice",
        help="recompute stored costs after a price correction",
        description=(
            "Price every stored call again from its token usage, at its own time, with the "
            "current prices (built-in data, $TOKENBUDGET_PRICES, or --prices), and update the "
            "costs that changed."
        ),
    )
    parser.add_argument("store", help="usage.db, sqlite:///path or postgresql://user@host/db")
    parser.add_argument("--prices", metavar="FILE", help="a price override file to use")
    parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
    parser.add_argument(
        "--all",
        action="store_true",
        help="also check calls already priced with the current price data",
    )
    return parser


@command(add_reprice_arguments)
def reprice(args: argparse.Namespace) -> int:
    """Reprice ``args.store`` with the current prices and print what changed."""
    from ..pricing import PriceBook

    book = PriceBook.load(args.prices) if args.prices else PriceBook.default()

    def price(
        provider: str, model: str | None, usage: Usage, tier: str | None, at: datetime
    ) -> Decimal | None:
        if model is None:
            return usage.reported_cost_usd
        try:
            return book.cost(provider, model, usage, service_tier=tier, at=at)
        except Exception:
            return None

    try:
        store = open_store(args.store, create=False)
    except ValueError as exc:  # an unknown scheme
        raise ReportError(str(exc)) from exc
    try:
        result = store.reprice(
            price, price_version=book.version, dry_run=args.dry_run, force=args.all
        )
    finally:
        store.close()
    print(result)
    return 0


# -- demo -------------------------------------------------------------------------------


def add_demo_arguments(sub: argparse._SubParsersAction[P]) -> P:
    """``tokenbudget demo [--by ...] [--store FILE]``."""
    parser = sub.add_parser(
        "demo",
        help="run an offline demo (fake OpenAI, Anthropic and Gemini) and print its report",
        description=(
            "Make a few calls to a fake OpenAI, Anthropic and Gemini API (no network, no key) "
            "through a tracker, then print the usage table."
        ),
    )
    parser.add_argument("--by", type=_grouping, default="model", help=_BY_HELP)
    parser.add_argument(
        "--store", type=Path, metavar="FILE", help="also record the calls in this SQLite store"
    )
    return parser


@command(add_demo_arguments)
def demo(args: argparse.Namespace) -> int:
    """Run the offline demo scenario and print its table."""
    from .._tracker import TokenTracker
    from ..testing import run_demo

    with TokenTracker(name="demo", store=args.store) as tracker:
        calls = run_demo(tracker)
        print(f"tokenbudget demo: {calls} calls to a fake OpenAI, Anthropic and Gemini (offline)\n")
        print(generate_table_report(tracker, by=args.by), end="")
    if args.store is not None:
        print(f"\nrecorded in {args.store}; try: tokenbudget report {args.store} --by day")
    return 0
