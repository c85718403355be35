"""The plugin's settings: a test's marker, and the run's command-line options, as plain objects.

``@pytest.mark.tokenbudget(...)`` becomes a :class:`TokenbudgetOptions`;
``--tokenbudget-*`` options become a :class:`RunOptions`. Both are checked
when they are read, with messages that name the bad value and the valid ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from ..budgets import parse_dollars

__all__ = ["Mode", "RunOptions", "TokenbudgetOptions", "parse_hosts"]

#: ``live``: calls go to the providers; ``record``: and are written to a directory;
#: ``replay``: they are answered from one, never sent.
Mode = Literal["live", "record", "replay"]


def _count(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, not {value!r}")
    return value


def parse_hosts(values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``HOST=PROVIDER`` texts as ``(host, provider)`` pairs, checked; later ones win.

    ``HOST`` is ``name`` or ``name:port`` (no scheme, no path); spaces around
    ``=`` are allowed (ini lines). Raises ``ValueError`` naming the bad value.
    """
    pairs: dict[str, str] = {}
    for value in values:
        host, sep, provider = value.partition("=")
        host, provider = host.strip().lower(), provider.strip()
        if not sep or not host or not provider or "/" in host or "=" in provider:
            raise ValueError(
                "--tokenbudget-host (and the ini option tokenbudget_hosts) takes "
                f"HOST=PROVIDER, e.g. localhost:4000=local or llm-gw.internal=openai, not {value!r}"
            )
        pairs.pop(host, None)
        pairs[host] = provider
    return tuple(pairs.items())


@dataclass(frozen=True)
class TokenbudgetOptions:
    """The limits of ``@pytest.mark.tokenbudget(max_cost_usd=..., max_tokens=..., max_calls=...)``.

    ``max_cost_usd`` is in dollars (``Decimal``, ``str``, ``int`` or ``float``);
    ``max_tokens`` counts input plus output tokens; ``max_calls`` counts the
    billable LLM calls. ``None`` leaves a dimension unlimited.
    """

    max_cost_usd: Decimal | None = None
    max_tokens: int | None = None
    max_calls: int | None = None

    @classmethod
    def from_marker(cls, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> TokenbudgetOptions:
        """The options of a marker's arguments; ``TypeError``/``ValueError`` say what is wrong."""
        names = [field.name for field in fields(cls)]
        if args:
            raise TypeError(f"give the limits by name: tokenbudget({', '.join(names)})")
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise TypeError(f"unknown option {', '.join(unknown)} (valid: {', '.join(names)})")
        return cls(
            max_cost_usd=parse_dollars(kwargs.get("max_cost_usd")),
            max_tokens=_count("max_tokens", kwargs.get("max_tokens")),
            max_calls=_count("max_calls", kwargs.get("max_calls")),
        )

    @property
    def limited(self) -> bool:
        """True when any limit is set."""
        return any(value is not None for value in self.as_dict().values())

    def as_dict(self) -> dict[str, Any]:
        """The limits for JSON: money as an exact string, unset limits as ``None``."""
        cost = self.max_cost_usd
        return {
            "max_cost_usd": None if cost is None else format(cost, "f"),
            "max_tokens": self.max_tokens,
            "max_calls": self.max_calls,
        }


@dataclass(frozen=True)
class RunOptions:
    """The ``--tokenbudget-*`` command-line options of a run."""

    report: bool = False
    max_cost_usd: Decimal | None = None
    json_path: Path | None = None
    record_dir: Path | None = None
    replay_dir: Path | None = None
    ignore_fields: tuple[str, ...] = ()
    #: ``(host, provider)`` pairs: the hosts mapped to a provider for every tracker of the run.
    hosts: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_values(
        cls,
        *,
        base: str | os.PathLike[str],
        report: bool = False,
        max_cost: str | None = None,
        json_path: str | None = None,
        record: str | None = None,
        replay: str | None = None,
        ignore_fields: tuple[str, ...] = (),
        hosts: Iterable[str] = (),
    ) -> RunOptions:
        """Checked options; paths are made absolute against ``base`` (the invocation dir).

        Raises ``ValueError`` with the option's name for a bad value.
        """
        if record and replay:
            raise ValueError(
                "--tokenbudget-record and --tokenbudget-replay exclude each other: record once "
                "(real calls), then replay in later runs"
            )
        try:
            limit = parse_dollars(max_cost)
        except ValueError:
            raise ValueError(
                "--tokenbudget-max-cost must be an amount in dollars such as 0.50, "
                f"not {max_cost!r}"
            ) from None

        def path(value: str | None) -> Path | None:
            return None if not value else Path(base, value).absolute()

        replay_dir = path(replay)
        if replay_dir is not None and not replay_dir.is_dir():
            raise ValueError(
                f"--tokenbudget-replay: no recording at {replay_dir}; make one with "
                f"--tokenbudget-record={replay}"
            )
        return cls(
            report=report,
            max_cost_usd=limit,
            json_path=path(json_path),
            record_dir=path(record),
            replay_dir=replay_dir,
            ignore_fields=ignore_fields,
            hosts=parse_hosts(hosts),
        )

    @property
    def mode(self) -> Mode:
        """``record``, ``replay`` or ``live``."""
        if self.record_dir is not None:
            return "record"
        if self.replay_dir is not None:
            return "replay"
        return "live"

    @property
    def recording_dir(self) -> Path | None:
        """The directory recorded to or replayed from, if any."""
        return self.record_dir or self.replay_dir
