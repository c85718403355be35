"""Arithmetic on :class:`UsageSummary` values, their dict form, and grouping of records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from .._data import CallRecord, RunningTotals, UsageSummary
from ._codec import decimal_or_none
from ._query import check_grouping, utc_day

__all__ = [
    "SUMMARY_FIELDS",
    "add_summaries",
    "group_key",
    "group_records",
    "subtract_summaries",
    "summarize",
    "summary_from_dict",
    "summary_to_dict",
    "totals_from_summary",
]

#: The figures of a :class:`UsageSummary`, in declaration order.
SUMMARY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(UsageSummary))


def add_summaries(left: UsageSummary, right: UsageSummary) -> UsageSummary:
    """Field-wise sum."""
    return UsageSummary(**{n: getattr(left, n) + getattr(right, n) for n in SUMMARY_FIELDS})


def subtract_summaries(left: UsageSummary, right: UsageSummary) -> UsageSummary:
    """Field-wise difference (``left`` minus ``right``)."""
    return UsageSummary(**{n: getattr(left, n) - getattr(right, n) for n in SUMMARY_FIELDS})


def totals_from_summary(summary: UsageSummary) -> RunningTotals:
    """Running totals that start from ``summary`` (to seed a ledger from a store)."""
    totals = RunningTotals()
    for name in SUMMARY_FIELDS:
        setattr(totals, name, getattr(summary, name))
    return totals


def summary_to_dict(summary: UsageSummary) -> dict[str, Any]:
    """A JSON-friendly dict: token and call counts as ints, money as exact strings."""
    out: dict[str, Any] = {}
    for name in SUMMARY_FIELDS:
        value = getattr(summary, name)
        out[name] = format(value, "f") if name.endswith("_usd") else value
    out["total_tokens"] = summary.total_tokens
    return out


def summary_from_dict(data: Mapping[str, Any]) -> UsageSummary:
    """The :class:`UsageSummary` of a :func:`summary_to_dict` dict (an export's ``summary``)."""
    values: dict[str, Any] = {
        name: (decimal_or_none(data[name]) if name.endswith("_usd") else int(data[name]))
        for name in SUMMARY_FIELDS
    }
    return UsageSummary(**values)


def summarize(records: Iterable[CallRecord]) -> UsageSummary:
    """Totals over ``records``."""
    totals = RunningTotals()
    for record in records:
        totals.add(record)
    return totals.snapshot()


def group_key(record: CallRecord, by: str) -> list[str]:
    """The group(s) ``record`` belongs to: none or several for tags, else exactly one."""
    if by == "provider":
        return [record.provider]
    if by == "model":
        return [record.model or "unknown"]
    if by == "day":
        return [utc_day(record.timestamp)]
    if by == "tag":
        return [f"{name}={value}" for name, value in record.tags.items()]
    value = record.tags.get(by[4:])
    return [] if value is None else [value]


def group_records(records: Iterable[CallRecord], by: str) -> dict[str, UsageSummary]:
    """Totals per group, as the ledger and the stores compute them.

    ``by="tag"`` groups per ``name=value`` (a call with two tags counts in
    both); ``by="tag:NAME"`` per value of tag ``NAME`` (calls without it are left
    out: the caller can tell them from the total).
    """
    check_grouping(by)
    table: dict[str, RunningTotals] = {}
    for record in records:
        for key in group_key(record, by):
            totals = table.get(key)
            if totals is None:
                totals = table[key] = RunningTotals()
            totals.add(record)
    return {key: totals.snapshot() for key, totals in table.items()}
