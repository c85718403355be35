"""Why a call could not be priced: logged once per (provider, model), at DEBUG level.

A model is unpriced when the data does not know it (the message then names the
close matches) or when its provider publishes no price (the data says why).
The book logs at DEBUG only: the tracker warns the user once per model itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .._core import renew_after_fork
from ._model import ModelPrice

__all__ = ["UnpricedLog"]

logger = logging.getLogger("tokenbudget.pricing")

#: ``suggest(model, provider)``: known names close to ``model``.
Suggest = Callable[[str, "str | None"], list[str]]


class UnpricedLog:
    """The (provider, model) pairs already explained; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        renew_after_fork(self, "_lock", threading.Lock)
        self._logged: set[tuple[str | None, str]] = set()

    def report(
        self, provider: str | None, model: str, price: ModelPrice | None, suggest: Suggest
    ) -> None:
        """Log why ``model`` at ``provider`` is unpriced, unless done before or DEBUG is off.

        ``price`` is what the model resolved to (``None``: unknown);
        ``suggest`` is only called for an unknown model.
        """
        key = (provider, model)
        if key in self._logged or not logger.isEnabledFor(logging.DEBUG):
            return
        with self._lock:
            if key in self._logged:
                return
            self._logged.add(key)
        where = f" at provider {provider!r}" if provider else ""
        if price is not None:
            reason = f"it has no published price ({price.unpriced})"
        else:
            close = suggest(model, provider)
            reason = "it is not in the price data" + (
                f" (close matches: {', '.join(close)})" if close else ""
            )
        logger.debug(
            "tokenbudget: model %r%s is unpriced: %s; its tokens are recorded with cost None."
            " Add a price with tokenbudget.register_model() or TOKENBUDGET_PRICES.",
            model,
            where,
            reason,
        )
