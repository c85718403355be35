"""``tokenbudget prices diff --against FILE``: models another price list charges differently.

Reads LiteLLM's ``model_prices_and_context_window.json``, genai-prices'
``data.json`` or a tokenbudget override file, prices every model it shares
with tokenbudget for fixed usage mixes (:data:`tokenbudget.pricing.MIXES`) and
lists those whose cost differs by more than ``--threshold`` percent, largest
difference first. Always exits 0 when the file could be read: a difference is
information, not an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ..pricing import (
    MIXES,
    CostDiff,
    OverrideFile,
    PriceBook,
    PriceFile,
    compare_prices,
    import_genai_prices,
    import_litellm,
    parse_price_json,
)
from ._fetch import fetch
from ._format import money, table
from ._registry import CliParser

__all__ = ["add_diff_parser", "prices_diff", "read_price_list"]


def add_diff_parser(nested: argparse._SubParsersAction[CliParser]) -> None:
    """The ``prices diff`` sub-parser."""
    diff = nested.add_parser(
        "diff",
        help="list models whose cost differs from another price list (LiteLLM, genai-prices)",
        description=(
            "Price every model tokenbudget shares with another price list for fixed usage mixes "
            "and list those whose cost differs by more than --threshold percent. Mixes: "
            + "; ".join(f"{name}: {_mix_text(name)}" for name in MIXES)
            + "."
        ),
    )
    diff.add_argument(
        "--against",
        required=True,
        metavar="URL_OR_FILE",
        help="a LiteLLM JSON, a genai-prices data.json or a tokenbudget price file",
    )
    diff.add_argument(
        "--threshold",
        type=_percent,
        default=Decimal("0.5"),
        metavar="PERCENT",
        help="report differences above this many percent (default 0.5)",
    )
    diff.add_argument(
        "--mix",
        type=_mixes,
        default=["standard"],
        metavar="NAMES",
        help=f"comma-separated usage mixes (default standard; any of {', '.join(MIXES)}, or all)",
    )
    diff.add_argument("--provider", help="only this provider")
    diff.add_argument("--at", type=_moment, help="ISO date or time to price at (default: now)")
    diff.add_argument("--json", action="store_true", help="print the rows as JSON")
    diff.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    diff.set_defaults(handler=prices_diff)


def prices_diff(args: argparse.Namespace) -> int:
    """Print the models whose cost differs from the other list's."""
    files, kind = read_price_list(fetch(args.against, args.timeout), args.against)
    if args.provider:
        files = [f for f in files if f.provider == args.provider]
    at: datetime = args.at or datetime.now(timezone.utc)
    rows, stats = compare_prices(
        PriceBook.default(), files, mixes=args.mix, threshold=args.threshold / 100, at=at
    )
    if args.json:
        document = {
            "against": args.against,
            "format": kind,
            "at": at.isoformat(),
            "threshold_percent": str(args.threshold),
            "mixes": {name: _mix_text(name) for name in args.mix},
            "compared_models": stats.compared,
            "rows": [_row_json(row) for row in rows],
        }
        print(json.dumps(document, indent=2))
        return 0
    if rows:
        header = ["PROVIDER", "MODEL", "MIX", "TOKENBUDGET", "THEIRS", "DIFF", "PRICED AS"]
        table([header, *(_row_text(row) for row in rows)], sys.stdout)
        print()
    print(
        f"{len(rows)} rows over {money(args.threshold)}% apart"
        f" ({', '.join(args.mix)} mix; costs in USD at {at.isoformat()});"
        f" compared {stats.compared} models of {kind} {args.against};"
        f" not compared: {stats.unknown} unknown to tokenbudget, {stats.unpriced} unpriced,"
        f" {stats.other_providers} at providers tokenbudget has no prices for"
    )
    return 0


def read_price_list(raw: bytes, origin: str) -> tuple[list[PriceFile], str]:
    """Price files from a LiteLLM JSON, a genai-prices data.json or a tokenbudget file."""
    data: Any = parse_price_json(raw, origin)
    if isinstance(data, list):
        return import_genai_prices(data, origin=origin)[0], "genai-prices"
    if isinstance(data, dict) and "format" in data:
        return list(OverrideFile.model_validate(data).providers), "tokenbudget"
    if isinstance(data, dict) and "provider" in data and "models" in data:
        return [PriceFile.model_validate(data)], "tokenbudget"
    return import_litellm(data, origin=origin)[0], "LiteLLM"


def _row_text(row: CostDiff) -> list[str]:
    return [
        row.provider,
        row.model,
        row.mix,
        money(row.ours),
        money(row.theirs),
        _relative(row.relative),
        row.ours_model,
    ]


def _row_json(row: CostDiff) -> dict[str, Any]:
    return {
        "provider": row.provider,
        "model": row.model,
        "priced_as": row.ours_model,
        "mix": row.mix,
        "tokenbudget_usd": money(row.ours),
        "theirs_usd": money(row.theirs),
        "relative": None if row.relative is None else money(row.relative.quantize(Decimal("1e-6"))),
    }


def _relative(value: Decimal | None) -> str:
    if value is None:
        return "new cost"
    percent = (value * 100).quantize(Decimal("0.1"))
    return f"{'+' if percent > 0 else ''}{money(percent)}%"


def _mix_text(name: str) -> str:
    mix = MIXES[name]
    usage = mix.usage
    parts = [f"{usage.input_tokens} input"]
    if usage.cached_input_tokens:
        parts.append(f"{usage.cached_input_tokens} of them cached")
    parts.append(f"{usage.output_tokens} output tokens")
    if mix.batch:
        parts.append("batch")
    if mix.service_tier:
        parts.append(f"{mix.service_tier} tier")
    return ", ".join(parts)


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.rstrip("%"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}")
    return value


def _mixes(text: str) -> list[str]:
    names = list(MIXES) if text == "all" else [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MIXES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown mix {', '.join(unknown) or text!r}; known: {', '.join(MIXES)}"
        )
    return names


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
