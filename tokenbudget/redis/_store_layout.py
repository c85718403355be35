"""Where the usage store's counters live in Redis: its keys, and the fields of a day.

What is kept (``<prefix>`` is ``tokenbudget``, or ``?prefix=NAME`` in the URL)::

    <prefix>:usage:day:<YYYY-MM-DD>   hash, one per UTC day, integer fields
        m<US><provider><US><model><US><figure>   per provider and billed model
        t<US><tag name><US><tag value><US><figure>   per tag
    <prefix>:usage:days               zset of the days used (score: day number)
    <prefix>:usage:meta               hash: schema version
    <prefix>:usage:tags               hash: the tag values told apart ("=" name <US>
                                      value) and how many per tag name ("#" name)
    <prefix>:usage:batch:<token>      marker of a written batch (expires after a day)

At most ``max_tag_values`` values per tag name are told apart, decided in
Redis for every process alike; a later new value is counted under
``"(other)"`` (totals stay exact). ``<US>`` is the ASCII unit separator
(0x1f; one inside a name becomes U+FFFD).
Figures are those of a ``UsageSummary`` (see ``_figures``); money is exact (see
``_money``). A day's totals are the sum of its provider/model fields.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["SEP", "Counters", "Day", "field_prefix", "usage_key"]

SEP = "\x1f"

#: Figures per (provider, model) or per (tag name, tag value).
Counters = dict[tuple[str, str], dict[str, int]]


def usage_key(prefix: str, *parts: str) -> str:
    """The key ``<prefix>:usage:<part>:...``."""
    return ":".join((prefix, "usage", *parts))


def field_prefix(kind: str, first: str, second: str) -> str:
    """``m<US>provider<US>model<US>`` or ``t<US>name<US>value<US>``: a figure's name follows."""
    return "".join(part.replace(SEP, "\ufffd") + SEP for part in (kind, first, second))


class Day:
    """One day's counters, read back: per (provider, model) and per (tag name, value)."""

    def __init__(self, fields: Mapping[bytes, bytes]) -> None:
        self.models: Counters = {}
        self.tags: Counters = {}
        for raw, value in fields.items():
            kind, first, second, figure = raw.decode().split(SEP)
            table = self.models if kind == "m" else self.tags
            table.setdefault((first, second), {})[figure] = int(value)
