"""Dated aliases compiled: the model a moving name (``-latest``) means at a moment.

A :class:`DatedAlias` of the data (``_schema.py``) is compiled, once per
provider index (``_layers.py``), into an :class:`AliasRoute` holding the
:class:`ModelPrice` of each target and the POSIX second it starts. The book
caches the route itself under the name, never one of its targets, so a cached
resolution is right for every date: the route picks the target per call.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Mapping
from datetime import datetime

from ._model import ModelPrice
from ._names import normalize
from ._period import timestamp
from ._schema import DatedAlias

__all__ = ["AliasRoute", "compile_alias"]

logger = logging.getLogger("tokenbudget.pricing")


class AliasRoute:
    """One dated alias: the model it means at each moment."""

    __slots__ = ("name", "starts", "targets")

    def __init__(self, name: str, starts: tuple[float, ...], targets: tuple[ModelPrice, ...]):
        self.name = name
        self.starts = starts
        self.targets = targets

    def at(self, moment: datetime | None) -> ModelPrice:
        """The model the alias means at ``moment`` (now when ``None``; naive is UTC)."""
        second = time.time() if moment is None else timestamp(moment)
        return self.targets[max(bisect.bisect_right(self.starts, second) - 1, 0)]

    def __repr__(self) -> str:
        return f"AliasRoute({self.name!r} -> {[t.model for t in self.targets]})"


def compile_alias(
    alias: DatedAlias, index: Mapping[str, ModelPrice | AliasRoute], provider: str
) -> AliasRoute | None:
    """``alias`` with its targets looked up in ``provider``'s merged ``index``.

    ``None`` (logged) when a target is not a model of that provider: the name
    then resolves as if the alias were not there, and pricing never raises.
    """
    targets: list[ModelPrice] = []
    for target in alias.targets:
        found = index.get(normalize(target.model))
        if not isinstance(found, ModelPrice):
            logger.warning(
                "tokenbudget: dated alias %r of provider %r points at %r, which is not one of"
                " its models; the alias is ignored",
                alias.alias,
                provider,
                target.model,
            )
            return None
        targets.append(found)
    starts = tuple(float("-inf") if t.from_ is None else timestamp(t.from_) for t in alias.targets)
    return AliasRoute(alias.alias, starts, tuple(targets))
