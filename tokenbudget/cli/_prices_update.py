"""``tokenbudget prices update``: merge LiteLLM's community prices into the override file.

The plan (which models are added, changed, kept) comes from
:func:`tokenbudget.pricing.plan_update`; this module reads the source, prints
the plan and, unless ``--dry-run``, writes the override file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from ..pricing import (
    OverrideFile,
    PriceChange,
    UpdatePlan,
    default_override_path,
    import_litellm,
    parse_price_json,
    plan_update,
    reset_default_book,
)
from ..reports import atomic_text
from ..store import make_private_dirs
from ._fetch import fetch
from ._format import money, table
from ._registry import CliParser

__all__ = ["DEFAULT_LITELLM_URL", "add_update_parser", "prices_update", "print_plan"]

#: Where ``tokenbudget prices update`` fetches LiteLLM's community prices by default.
DEFAULT_LITELLM_URL = (
    "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
)
_STATUSES = ("added", "changed", "unchanged", "kept")


def add_update_parser(nested: argparse._SubParsersAction[CliParser]) -> None:
    """The ``prices update`` sub-parser."""
    update = nested.add_parser(
        "update",
        help="merge LiteLLM's community prices into the override file",
        description=(
            "Merge a LiteLLM model_prices_and_context_window.json (URL or file) into the user "
            "price override file, field by field over the built-in data: new models are added, "
            "today's prices the community changes are updated from today on, and no price "
            "history, peak window, tier, service tier, batch price, extra or alias is erased. "
            "Stale community prices (equal to prices that have ended) are ignored. Prints what "
            "changes; --dry-run writes nothing."
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
    update.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    update.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    update.set_defaults(handler=prices_update)


def prices_update(args: argparse.Namespace) -> int:
    """Read a LiteLLM price file, plan the merge, print it, and write the override file."""
    source: str = args.source
    raw = fetch(source, args.timeout)
    files, stats = import_litellm(parse_price_json(raw, source), origin=source, today=date.today())
    plan = plan_update(files)
    skipped = stats.skipped_unpriced + stats.skipped_invalid + stats.skipped_duplicate
    print(
        f"read {stats.imported} models of {len(stats.providers)} providers from {source}"
        f" (skipped {skipped}: {stats.skipped_unpriced} without token prices,"
        f" {stats.skipped_invalid} invalid, {stats.skipped_duplicate} duplicate names)"
    )
    print_plan(plan)
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    output: Path = args.output or default_override_path()
    document = OverrideFile(
        format="tokenbudget-prices/1",
        generated=datetime.now().astimezone(),
        source=source,
        providers=plan.files,
    )
    text = document.model_dump_json(by_alias=True, exclude_defaults=True, indent=1)
    make_private_dirs(output.parent)
    with atomic_text(output) as out:  # a new file is its owner's alone (0600)
        out.write(text + "\n")
    reset_default_book()
    print(f"wrote {plan.written} models of {len(plan.files)} providers to {output}")
    if not os.environ.get("TOKENBUDGET_PRICES") and output != default_override_path():
        print(f"note: set TOKENBUDGET_PRICES={output} to use it")
    return 0


def print_plan(plan: UpdatePlan, out: TextIO | None = None) -> None:
    """The per-provider counts, then every changed price (old -> new), kept model and addition."""
    out = out or sys.stdout
    counts = plan.counts()
    total: Counter[str] = Counter()
    rows = [["PROVIDER", *(s.upper() for s in _STATUSES)]]
    for provider in sorted(counts):
        total.update(counts[provider])
        rows.append([provider, *(str(counts[provider][s]) for s in _STATUSES)])
    rows.append(["total", *(str(total[s]) for s in _STATUSES)])
    out.write("compared with the built-in data:\n")
    table(rows, out)
    for status, title in (
        ("changed", "changed (old -> new, per 1M tokens; extras per unit)"),
        ("kept", "kept (the built-in data wins)"),
        ("added", "added"),
    ):
        chosen = [c for c in plan.changes if c.status == status]
        if chosen:
            out.write(f"\n{title}:\n")
            for change in sorted(chosen, key=lambda c: (c.provider, c.model.lower())):
                out.write(f"  {change.provider}/{change.model}: {_describe(change)}\n")


def _describe(change: PriceChange) -> str:
    if change.status == "kept":
        return change.reason
    if change.status == "added":
        return ", ".join(f"{name} {money(new)}" for name, _, new in change.prices[:3])
    return ", ".join(f"{name} {_old(old)} -> {money(new)}" for name, old, new in change.prices)


def _old(value: Decimal | None) -> str:
    return "(none)" if value is None else money(value)
