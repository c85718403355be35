"""The box-drawn usage table: one row per provider, model, tag or day, and a Total.

::

    ┌──────────┬───────┬────────┬─────────┐
    │ Provider │ Calls │ Tokens │    Cost │
    ├──────────┼───────┼────────┼─────────┤
    │ openai   │    12 │  12.3k │ $0.0421 │
    ├──────────┼───────┼────────┼─────────┤
    │ Total    │    12 │  12.3k │ $0.0421 │
    └──────────┴───────┴────────┴─────────┘

Numbers are right-aligned; widths count terminal cells, so CJK model names and
emoji tag values line up. Columns ``Cached`` and ``Saved`` appear when a call
was answered from the cache, ``Unpriced`` when a call had no known price (its
cost is then missing from ``Cost``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .._data import UsageSummary
from ..store import SUMMARY_FIELDS, Query, check_grouping, subtract_summaries
from ._format import clean, display_width, human_tokens, pad, usd
from ._source import UsageSource

__all__ = [
    "NO_TAG",
    "Column",
    "Row",
    "breakdown_rows",
    "heading",
    "render_table",
    "table_columns",
]

#: The row of calls that do not carry the grouped tag.
NO_TAG = "(none)"
TAG_NOTE = "A call with several tags is counted once per tag; Total counts it once."


@dataclass(frozen=True)
class Row:
    """One line of a report: a group's name and totals."""

    key: str
    summary: UsageSummary


@dataclass(frozen=True)
class Column:
    """A figure column: its title and how a group's totals show in it."""

    title: str
    cell: Callable[[UsageSummary], str]


def heading(by: str) -> str:
    """The first column's title: ``Provider``, ``Model``, ``Day``, ``Tag`` or the tag's name."""
    return by[4:] if by.startswith("tag:") else by.capitalize()


def breakdown_rows(source: UsageSource, by: str, query: Query) -> tuple[list[Row], Row]:
    """The sorted rows of a breakdown and its Total row.

    Days run oldest first; other groups by cost, then tokens, largest first.
    ``tag:NAME`` gets a ``(none)`` row for calls without the tag, so its rows
    add up to the total.
    """
    check_grouping(by)
    total = source.summary(query)
    groups = source.breakdown(by, query)
    rows = [Row(key, summary) for key, summary in groups.items()]
    if by == "day":
        rows.sort(key=lambda row: row.key)
    else:
        rows.sort(key=lambda row: (-row.summary.cost_usd, -row.summary.total_tokens, row.key))
    if by.startswith("tag:"):
        rest = total
        for row in rows:
            rest = subtract_summaries(rest, row.summary)
        if any(getattr(rest, name) for name in SUMMARY_FIELDS):
            rows.append(Row(NO_TAG, rest))
    return rows, Row("Total", total)


def _cost(summary: UsageSummary) -> str:
    """The cost; ``-`` when every call of the group was unpriced (its cost is unknown)."""
    if summary.calls and summary.unpriced_calls == summary.calls:
        return "-"
    return usd(summary.cost_usd)


def table_columns(total: UsageSummary) -> list[Column]:
    columns = [
        Column("Calls", lambda s: f"{s.calls:,}"),
        Column("Tokens", lambda s: human_tokens(s.total_tokens)),
        Column("Cost", _cost),
    ]
    if total.cached_calls:
        columns.append(Column("Cached", lambda s: f"{s.cached_calls:,}"))
        columns.append(Column("Saved", lambda s: usd(s.saved_cost_usd)))
    if total.unpriced_calls:
        columns.append(Column("Unpriced", lambda s: f"{s.unpriced_calls:,}"))
    return columns


def render_table(rows: Sequence[Row], total: Row, by: str) -> str:
    """The box-drawn table of ``rows`` and ``total``, ending in a newline."""
    columns = table_columns(total.summary)
    header = [heading(by), *(column.title for column in columns)]
    body = [
        [clean(row.key), *(column.cell(row.summary) for column in columns)]
        for row in [*rows, total]
    ]
    widths = [max(display_width(line[i]) for line in [header, *body]) for i in range(len(header))]

    def rule(left: str, middle: str, right: str) -> str:
        return left + middle.join("─" * (width + 2) for width in widths) + right

    def line(cells: Sequence[str]) -> str:
        padded = (
            pad(cell, width, right=index > 0)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "│ " + " │ ".join(padded) + " │"

    lines = [rule("┌", "┬", "┐"), line(header), rule("├", "┼", "┤")]
    lines += [line(cells) for cells in body[:-1]]
    if rows:
        lines.append(rule("├", "┼", "┤"))
    lines += [line(body[-1]), rule("└", "┴", "┘")]
    if by == "tag" and rows:
        lines.append(TAG_NOTE)
    return "\n".join(lines) + "\n"
