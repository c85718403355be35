"""Exceptions of the pricing engine.

::

    LookupError
     └── UnknownModelError        no price for a model name (names close matches)
          └── UnpricedModelError  the model is known but has no published price
    ValueError
     └── PriceDataError           a price file is missing, unreadable or invalid
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["PriceDataError", "UnknownModelError", "UnpricedModelError"]


class UnknownModelError(LookupError):
    """No price is known for ``model`` (at ``provider``, when one was given).

    The message names what was asked and, when there are any, the closest known
    names, so a typo is one glance away from its fix.
    """

    def __init__(
        self,
        model: str,
        provider: str | None = None,
        suggestions: Sequence[str] = (),
        *,
        reason: str | None = None,
    ) -> None:
        self.model = model
        self.provider = provider
        self.suggestions = tuple(suggestions)
        where = f" at provider {provider!r}" if provider else ""
        if reason is None:
            reason = f"no price known for model {model!r}{where}"
        message = reason
        if self.suggestions:
            message += "; close matches: " + ", ".join(self.suggestions)
        message += (
            ". Register one with tokenbudget.register_model(...) or point"
            " TOKENBUDGET_PRICES at a price file."
        )
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


class UnpricedModelError(UnknownModelError):
    """The model is known, but its provider publishes no price for it."""

    def __init__(self, model: str, provider: str, reason: str) -> None:
        super().__init__(
            model,
            provider,
            reason=f"model {model!r} at provider {provider!r} has no published price: {reason}",
        )


class PriceDataError(ValueError):
    """A price data file is missing, unreadable, or fails validation.

    The message names the file, and where it can, the model and the field.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)
