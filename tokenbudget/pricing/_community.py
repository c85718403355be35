"""The public entry of a community price update: the plan against the built-in data.

Kept apart from ``_update.py`` so that the rules there depend on no data
loader: ``_data.py`` reads a LiteLLM override file through them, and the
import graph stays free of cycles.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ._data import load_builtin
from ._schema import PriceFile
from ._update import UpdatePlan, plan_merge

__all__ = ["plan_update"]


def plan_update(imported: Iterable[PriceFile], *, now: datetime | None = None) -> UpdatePlan:
    """How community price files merge into the built-in data (rules: ``_update.py``).

    ``now`` (default: the current time) decides which built-in price period
    is current and which have ended.
    """
    return plan_merge(imported, load_builtin, now=now)
