"""The HTML report: one self-contained file with spend per day and per model, then the table.

Charts are inline SVG drawn here, styles are inline CSS: the file loads nothing
(no script, font, image or stylesheet from anywhere), so it opens offline, in a
mail attachment or a CI artifact, and renders the same in any browser. Every
name in it is HTML-escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from .._data import UsageSummary
from .._version import __version__
from ..store import Query, format_time
from ._format import clean, human_tokens, usd
from ._source import UsageSource
from ._table import breakdown_rows, heading, table_columns

__all__ = ["render_html"]

_PALETTE = ("#4f6bed", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")
_MAX_MODELS = 12
_MAX_DAYS = 366
_WIDTH = 960

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       background: #f6f7fb; color: #1d2330; }
main { max-width: 1000px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 12px; }
.meta { color: #5b6475; margin: 0 0 20px; font-size: 14px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 20px; }
.card { background: #fff; border-radius: 10px; padding: 14px 18px; min-width: 150px;
        box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.card b { display: block; font-size: 22px; }
.card span { color: #5b6475; font-size: 13px; }
section { background: #fff; border-radius: 10px; padding: 18px; margin-bottom: 20px;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
svg { display: block; width: 100%; height: auto; }
svg text { font-size: 12px; fill: #3c4455; }
.grid { stroke: #e3e6ee; }
.empty { color: #5b6475; font-style: italic; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 7px 10px; border-bottom: 1px solid #e3e6ee; text-align: left; }
th { background: #f0f2f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #c9cedb; }
footer { color: #8a92a3; font-size: 12px; text-align: center; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 0.01
    scale = 10.0 ** math.floor(math.log10(value))
    return next(step * scale for step in (1, 2, 2.5, 5, 10) if step * scale >= value * 0.999999)


def _days(by_day: Mapping[str, UsageSummary]) -> list[tuple[date, UsageSummary]]:
    """Every day from the first to the last with spend (missing days as zero), at most a year."""
    if not by_day:
        return []
    known = {date.fromisoformat(key): summary for key, summary in by_day.items()}
    first, last = min(known), max(known)
    first = max(first, last - timedelta(days=_MAX_DAYS - 1))
    span = (last - first).days + 1
    days = [first + timedelta(days=offset) for offset in range(span)]
    return [(day, known.get(day, UsageSummary())) for day in days]


def _day_chart(by_day: Mapping[str, UsageSummary]) -> str:
    days = _days(by_day)
    if not days:
        return '<p class="empty">No calls in this range.</p>'
    left, right, top, bottom, height = 72, 12, 12, 44, 300
    plot_w, plot_h = _WIDTH - left - right, height - top - bottom
    top_value = _nice_ceiling(max(float(s.cost_usd) for _, s in days))
    slot = plot_w / len(days)
    parts = [f'<svg viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="Spend per day">']
    for tick in range(5):
        value = top_value * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{_WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        label = usd(Decimal(str(round(value, 10))))
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{_e(label)}</text>')
    every = max(1, -(-len(days) // 12))
    for index, (day, summary) in enumerate(days):
        bar_h = plot_h * float(summary.cost_usd) / top_value
        x = left + index * slot + slot * 0.15
        y = top + plot_h - bar_h
        tip = f"{day.isoformat()}: {usd(summary.cost_usd)}, {summary.calls} calls"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar_h:.1f}"'
            f' rx="2" fill="{_PALETTE[0]}"><title>{_e(tip)}</title></rect>'
        )
        if index % every == 0 or (index == len(days) - 1 and len(days) <= 12):
            cx = left + (index + 0.5) * slot
            parts.append(
                f'<text x="{cx:.1f}" y="{height - bottom + 18}" text-anchor="middle">'
                f"{_e(day.strftime('%b %d'))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _top_models(by_model: Mapping[str, UsageSummary]) -> list[tuple[str, UsageSummary]]:
    ranked = sorted(by_model.items(), key=lambda kv: (-kv[1].cost_usd, -kv[1].total_tokens, kv[0]))
    if len(ranked) <= _MAX_MODELS:
        return ranked
    rest = ranked[_MAX_MODELS - 1 :]
    other = UsageSummary(
        calls=sum(s.calls for _, s in rest),
        input_tokens=sum(s.input_tokens for _, s in rest),
        output_tokens=sum(s.output_tokens for _, s in rest),
        cost_usd=sum((s.cost_usd for _, s in rest), Decimal(0)),
    )
    return [*ranked[: _MAX_MODELS - 1], (f"{len(rest)} other models", other)]


def _model_chart(by_model: Mapping[str, UsageSummary]) -> str:
    models = _top_models(by_model)
    if not models:
        return '<p class="empty">No calls in this range.</p>'
    label_w, value_w, row_h = 250, 110, 30
    plot_w = _WIDTH - label_w - value_w
    height = row_h * len(models) + 8
    top_value = max(float(s.cost_usd) for _, s in models) or 1.0
    parts = [f'<svg viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="Spend per model">']
    for index, (name, summary) in enumerate(models):
        y = 4 + index * row_h
        bar_w = max(plot_w * float(summary.cost_usd) / top_value, 1.0)
        colour = _PALETTE[index % len(_PALETTE)]
        tip = f"{name}: {usd(summary.cost_usd)}, {summary.calls} calls"
        parts.append(
            f'<text x="{label_w - 10}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end">'
            f"{_e(clean(name, 34))}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{bar_w:.1f}" height="{row_h - 8}" rx="3"'
            f' fill="{colour}"><title>{_e(tip)}</title></rect>'
            f'<text x="{label_w + bar_w + 8:.1f}" y="{y + row_h / 2 + 4:.1f}">'
            f"{_e(usd(summary.cost_usd))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _cards(total: UsageSummary) -> str:
    cards = [
        ("Total cost", usd(total.cost_usd)),
        ("Calls", f"{total.calls:,}"),
        ("Tokens", human_tokens(total.total_tokens)),
    ]
    if total.cached_calls:
        cards.append(("Saved by the cache", usd(total.saved_cost_usd)))
    if total.unpriced_calls:
        cards.append(("Unpriced calls", f"{total.unpriced_calls:,}"))
    if total.failed_calls:
        cards.append(("Failed calls", f"{total.failed_calls:,}"))
    body = "".join(f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for k, v in cards)
    return f'<div class="cards">{body}</div>'


def _table(source: UsageSource, by: str, query: Query) -> str:
    rows, total = breakdown_rows(source, by, query)
    columns = table_columns(total.summary)
    head = f"<th>{_e(heading(by))}</th>" + "".join(
        f'<th class="num">{_e(c.title)}</th>' for c in columns
    )
    lines = []
    for row in [*rows, total]:
        css = ' class="total"' if row is total else ""
        cells = "".join(f'<td class="num">{_e(c.cell(row.summary))}</td>' for c in columns)
        lines.append(f"<tr{css}><td>{_e(clean(row.key, 80))}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _range_text(query: Query) -> str:
    """``All recorded calls`` or ``From 2026-01-05 12:00 to now (UTC)``, then the filters."""
    start = format_time(query.start)[:16].replace("T", " ") if query.start else None
    end = format_time(query.end)[:16].replace("T", " ") if query.end else "now"
    span = (
        "All recorded calls"
        if start is None and query.end is None
        else (f"From {start or 'the first call'} to {end} (UTC)")
    )
    filters = [
        f"{name}: {value}"
        for name, value in (("provider", query.provider), ("model", query.model))
        if value
    ]
    filters += [f"tag {k}={v}" for k, v in query.tags.items()]
    suffix = f" · {', '.join(filters)}" if filters else ""
    return span + suffix


def _short(label: str) -> str:
    """A source's name without the directories (a report may travel; paths need not)."""
    return label.rsplit("/", 1)[-1] if "://" in label else label


def render_html(
    source: UsageSource,
    *,
    by: str = "model",
    query: Query | None = None,
    title: str = "LLM usage report",
    sections: Sequence[str] = ("day", "model"),
) -> str:
    """The whole HTML document: cards, a chart per entry of ``sections``, the ``by`` table."""

    query = query or Query()
    total = source.summary(query)
    charts: dict[str, tuple[str, Callable[[], str]]] = {
        "day": ("Spend per day (UTC)", lambda: _day_chart(source.breakdown("day", query))),
        "model": ("Spend per model", lambda: _model_chart(source.breakdown("model", query))),
    }
    blocks = [
        f"<section><h2>{_e(charts[name][0])}</h2>{charts[name][1]()}</section>" for name in sections
    ]
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body><main>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="meta">{_e(_range_text(query))} · source: {_e(_short(source.label))}</p>'
        f"{_cards(total)}{''.join(blocks)}"
        f"<section><h2>By {_e(heading(by).lower())}</h2>{_table(source, by, query)}</section>"
        f"<footer>Generated {_e(generated)} by tokenbudget {_e(__version__)};"
        " costs in US dollars.</footer>"
        "</main></body></html>\n"
    )
