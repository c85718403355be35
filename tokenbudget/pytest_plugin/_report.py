"""The run's results on paper: the per-test cost table and the ``--tokenbudget-json`` file.

The table (``--tokenbudget-report``) lists the tests that made LLM calls,
costliest first, then the calls made outside tests and the total; the JSON
file lists every test, sorted by node id, so runs can be compared::

    {
      "schema_version": 1,
      "generator": "tokenbudget 0.1.0",
      "mode": "live" | "record" | "replay",
      "recording": "/abs/dir" | null,
      "max_cost_usd": "0.50" | null,        # --tokenbudget-max-cost
      "over_limit": false,
      "total": {result},
      "tests": [{result}, ...],              # every test, also those without calls
      "outside_tests": [{result}, ...],      # per process
      "notes": ["..."]
    }

    result = {"nodeid", "outcome", "worker", "calls", "total_tokens",
              "cost_usd",    # what the calls cost (replay: their recorded cost)
              "spent_usd",   # what this run paid (replayed calls: 0)
              "by_model": {model: {"calls", "total_tokens", "cost_usd"}},
              "limits": {"max_cost_usd", "max_tokens", "max_calls"} | null,
              "problem": "why the test failed on its calls" | null,
              "usage": {the tracker's UsageSummary: tokens, cached_calls, saved_cost_usd...}}
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..reports import atomic_text, display_width, human_tokens, pad, usd
from ._results import TestCost

if TYPE_CHECKING:
    from ._run import Run

__all__ = ["SCHEMA_VERSION", "json_document", "table_lines", "write_json"]

SCHEMA_VERSION = 1

Cell = Callable[[TestCost], str]


def _columns(rows: Sequence[TestCost], replaying: bool) -> list[tuple[str, Cell]]:
    columns: list[tuple[str, Cell]] = [
        ("Calls", lambda row: f"{row.calls:,}"),
        ("Tokens", lambda row: human_tokens(row.usage.total_tokens)),
        ("Recorded cost" if replaying else "Cost", lambda row: usd(row.cost_usd)),
    ]
    if any(row.usage.unpriced_calls for row in rows):
        columns.append(("Unpriced", lambda row: f"{row.usage.unpriced_calls:,}"))
    return columns


def _box(header: list[str], body: list[list[str]]) -> list[str]:
    """A box-drawn table whose last body line is a total, as ``tokenbudget report`` draws."""
    widths = [max(display_width(line[i]) for line in [header, *body]) for i in range(len(header))]

    def rule(left: str, middle: str, right: str) -> str:
        return left + middle.join("─" * (width + 2) for width in widths) + right

    def line(cells: Sequence[str]) -> str:
        return (
            "│ "
            + " │ ".join(
                pad(cell, width, right=index > 0)
                for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
            )
            + " │"
        )

    lines = [rule("┌", "┬", "┐"), line(header), rule("├", "┼", "┤")]
    lines += [line(cells) for cells in body[:-1]]
    if len(body) > 1:
        lines.append(rule("├", "┼", "┤"))
    lines += [line(body[-1]), rule("└", "┴", "┘")]
    return lines


def table_lines(run: Run) -> list[str]:
    """The per-test table, and a line on the tests that made no calls."""
    replaying = run.mode == "replay"
    spending = [result for result in run.results if result.calls]
    spending.sort(key=lambda r: (-r.cost_usd, -r.usage.total_tokens, r.nodeid))
    rows = [*spending, *run.outside]
    total = run.total()
    columns = _columns([*rows, total], replaying)
    header = ["Test", *(title for title, _ in columns)]
    label = f"Total ({len(run.results)} tests)"
    body = [[row.nodeid, *(cell(row) for _, cell in columns)] for row in rows]
    body.append([label, *(cell(total) for _, cell in columns)])
    lines = _box(header, body)
    idle = len(run.results) - len(spending)
    if idle:
        lines.append(f"{idle} of {len(run.results)} tests made no LLM calls.")
    if replaying and run.recording is not None:
        lines.append(
            f"Replayed from {run.recording.directory}: costs are those recorded; nothing was spent."
        )
    return lines


def json_document(run: Run) -> dict[str, Any]:
    """The ``--tokenbudget-json`` document of the run (see the module docstring)."""
    limit = run.options.max_cost_usd
    recording = run.recording
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"tokenbudget {__version__}",
        "mode": run.mode,
        "recording": str(recording.directory) if recording is not None else None,
        "max_cost_usd": None if limit is None else format(limit, "f"),
        "over_limit": run.over_limit(),
        "total": run.total().to_dict(),
        "tests": [result.to_dict() for result in sorted(run.results, key=lambda r: r.nodeid)],
        "outside_tests": [result.to_dict() for result in run.outside],
        "notes": list(run.notes),
    }


def write_json(run: Run, path: str | os.PathLike[str]) -> None:
    """Write :func:`json_document` to ``path`` at once (parent directories are created)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_text(target) as out:
        json.dump(json_document(run), out, indent=2)
        out.write("\n")
