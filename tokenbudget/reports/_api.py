"""The report functions users call: a table, CSV, JSON and HTML files.

Each takes a *source*: a :class:`~tokenbudget.TokenTracker`, a
:class:`~tokenbudget.store.UsageStore`, or call records; and optional filters:
``start``/``end`` (or ``since``, a ``timedelta`` back from now), ``provider``,
``model`` and ``tags``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from ..store import Query
from ._atomic import atomic_text
from ._csv import write_csv_file
from ._html import render_html
from ._json import write_json_file
from ._source import as_source, make_query
from ._table import breakdown_rows, render_table

__all__ = [
    "export_csv",
    "export_html",
    "export_json",
    "generate_html_report",
    "generate_table_report",
]

Moment = datetime | date


def _query(
    start: Moment | None,
    end: Moment | None,
    since: timedelta | Moment | None,
    provider: str | None,
    model: str | None,
    tags: Mapping[str, object] | None,
) -> Query:
    return make_query(start, end, since=since, provider=provider, model=model, tags=tags)


def generate_table_report(
    source: object,
    by: str = "provider",
    *,
    start: Moment | None = None,
    end: Moment | None = None,
    since: timedelta | Moment | None = None,
    provider: str | None = None,
    model: str | None = None,
    tags: Mapping[str, object] | None = None,
) -> str:
    """The box-drawn table of usage per ``provider``, ``model``, ``tag``, ``tag:NAME`` or ``day``.

    >>> print(generate_table_report(tracker, by="model"))  # doctest: +SKIP
    """
    usage = as_source(source)
    query = _query(start, end, since, provider, model, tags)
    rows, total = breakdown_rows(usage, by, query)
    return render_table(rows, total, by)


def export_csv(
    source: object,
    path: str | os.PathLike[str],
    *,
    start: Moment | None = None,
    end: Moment | None = None,
    since: timedelta | Moment | None = None,
    provider: str | None = None,
    model: str | None = None,
    tags: Mapping[str, object] | None = None,
) -> int:
    """Write one CSV row per call to ``path`` (atomically); returns the number of calls.

    The columns are listed in ``tokenbudget.reports.CSV_COLUMNS``.
    """
    usage = as_source(source)
    query = _query(start, end, since, provider, model, tags)
    return write_csv_file(usage.records(query), path)


def export_json(
    source: object,
    path: str | os.PathLike[str],
    *,
    start: Moment | None = None,
    end: Moment | None = None,
    since: timedelta | Moment | None = None,
    provider: str | None = None,
    model: str | None = None,
    tags: Mapping[str, object] | None = None,
) -> int:
    """Write the calls, their summary and breakdowns as JSON (atomically); returns the count."""
    usage = as_source(source)
    query = _query(start, end, since, provider, model, tags)
    return write_json_file(usage.records(query), path, source=usage.label, query=query)


def generate_html_report(
    source: object,
    by: str = "model",
    *,
    start: Moment | None = None,
    end: Moment | None = None,
    since: timedelta | Moment | None = None,
    provider: str | None = None,
    model: str | None = None,
    tags: Mapping[str, object] | None = None,
    title: str = "LLM usage report",
) -> str:
    """A self-contained HTML page: spend per day and per model as charts, then the table."""
    usage = as_source(source)
    query = _query(start, end, since, provider, model, tags)
    return render_html(usage, by=by, query=query, title=title)


def export_html(
    source: object,
    path: str | os.PathLike[str],
    by: str = "model",
    *,
    start: Moment | None = None,
    end: Moment | None = None,
    since: timedelta | Moment | None = None,
    provider: str | None = None,
    model: str | None = None,
    tags: Mapping[str, object] | None = None,
    title: str = "LLM usage report",
) -> None:
    """Write :func:`generate_html_report` to ``path``, atomically."""
    page = generate_html_report(
        source,
        by,
        start=start,
        end=end,
        since=since,
        provider=provider,
        model=model,
        tags=tags,
        title=title,
    )
    with atomic_text(path) as out:
        out.write(page)
