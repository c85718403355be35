"""What a test's calls came to, as plain data that travels from xdist workers to the controller.

A :class:`TestCost` is made from a test's tracker when the test ends. It
round-trips through a JSON-friendly dict (:meth:`TestCost.to_dict` /
:meth:`TestCost.from_dict`): the same dicts go into ``--tokenbudget-json`` and
into ``config.workeroutput``, so the controller's report covers every worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._data import UsageSummary
from ..store import add_summaries, summary_from_dict, summary_to_dict
from ._wording import ModelCost, by_model

if TYPE_CHECKING:
    from .._tracker import TokenTracker
    from ._trackers import PytestTracker

__all__ = ["OUTSIDE_TESTS", "TestCost", "total"]

#: The name of the calls made outside any test (at import, in session fixtures).
OUTSIDE_TESTS = "(outside tests)"
_ZERO = Decimal(0)


@dataclass(frozen=True)
class TestCost:
    """One test's LLM calls: what they used and cost, and whether they failed the test.

    ``cost_usd`` is what the calls cost (in replay mode, what they cost when
    recorded); ``usage`` are the tracker's own figures (in replay mode its
    ``cost_usd`` is zero and ``saved_cost_usd`` holds the recorded cost).
    """

    __test__ = False

    nodeid: str
    usage: UsageSummary = field(default_factory=UsageSummary)
    cost_usd: Decimal = _ZERO
    outcome: str = ""
    models: Mapping[str, ModelCost] = field(default_factory=dict)
    limits: Mapping[str, Any] | None = None
    problem: str | None = None
    worker: str | None = None

    @classmethod
    def of_test(cls, tracker: PytestTracker, outcome: str, worker: str | None) -> TestCost:
        """The result of the test whose tracker is ``tracker``."""
        options = tracker.options
        return cls(
            nodeid=tracker.nodeid,
            usage=tracker.paid_usage,
            cost_usd=tracker.cost,
            outcome=outcome,
            models=tracker.cost_by_model(),
            limits=options.as_dict() if options.limited else None,
            problem=tracker.problem(),
            worker=worker,
        )

    @classmethod
    def of_tracker(
        cls, tracker: TokenTracker, name: str, replaying: bool, worker: str | None
    ) -> TestCost:
        """The calls ``tracker`` kept itself (the session tracker: calls outside tests)."""
        usage = tracker.usage
        cost = usage.cost_usd + (usage.saved_cost_usd if replaying else _ZERO)
        models = by_model(tracker.records, replaying)
        return cls(nodeid=name, usage=usage, cost_usd=cost, models=models, worker=worker)

    @property
    def calls(self) -> int:
        """How many calls the test made."""
        return self.usage.calls

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: counts as ints, money as exact decimal strings."""
        return {
            "nodeid": self.nodeid,
            "outcome": self.outcome,
            "worker": self.worker,
            "calls": self.usage.calls,
            "total_tokens": self.usage.total_tokens,
            "cost_usd": format(self.cost_usd, "f"),
            "spent_usd": format(self.usage.cost_usd, "f"),
            "by_model": {
                name: {
                    "calls": share.calls,
                    "total_tokens": share.total_tokens,
                    "cost_usd": format(share.cost_usd, "f"),
                }
                for name, share in self.models.items()
            },
            "limits": dict(self.limits) if self.limits is not None else None,
            "problem": self.problem,
            "usage": summary_to_dict(self.usage),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestCost:
        """The result :meth:`to_dict` gave."""
        models = {
            str(name): ModelCost(
                int(share["calls"]), int(share["total_tokens"]), Decimal(share["cost_usd"])
            )
            for name, share in data.get("by_model", {}).items()
        }
        limits = data.get("limits")
        return cls(
            nodeid=str(data["nodeid"]),
            usage=summary_from_dict(data["usage"]),
            cost_usd=Decimal(data["cost_usd"]),
            outcome=str(data.get("outcome") or ""),
            models=models,
            limits=dict(limits) if limits is not None else None,
            problem=data.get("problem"),
            worker=data.get("worker"),
        )


def total(results: Iterable[TestCost]) -> TestCost:
    """Every result added up (models merged), named ``Total``."""
    usage, cost = UsageSummary(), _ZERO
    models: dict[str, ModelCost] = {}
    for result in results:
        usage = add_summaries(usage, result.usage)
        cost += result.cost_usd
        for name, share in result.models.items():
            models[name] = models.get(name, ModelCost()) + share
    ordered = dict(sorted(models.items(), key=lambda item: (-item[1].cost_usd, item[0])))
    return TestCost(nodeid="Total", usage=usage, cost_usd=cost, models=ordered)
