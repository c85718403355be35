"""What one call is expected to use: worked out once, before sending, for every budget holding it.

Input tokens are counted from the request body by the provider's estimator
(tiktoken; for models that are not OpenAI's the count is an approximation with
OpenAI's encodings, usually within a few percent for English text). The output
ceiling is the one the request sets, as its provider reads it (``max_tokens``,
``generationConfig.maxOutputTokens``...). Prices come from the exchange's
pricing port (the tracker's price book): the input's cost and the price of one
output token at that input size, so the cost of any output count is one
multiplication.

While a watched stream runs, :meth:`CallEstimate.running` counts the output
seen so far incrementally: each new piece of text is tokenized once.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, TypeVar

from .._core import logger
from .._data import Usage
from ..providers import count_text_tokens
from ._state import Amount

if TYPE_CHECKING:
    from .._core import Endpoint, Exchange, RequestView

__all__ = ["CallEstimate"]

T = TypeVar("T")

_ZERO = Decimal(0)
_PROBE = 1_000_000  # output tokens priced once to find the price of one


class CallEstimate:
    """A call's input tokens, output ceiling and prices, shared by the budgets holding it."""

    __slots__ = (
        "_counted",
        "_input_costs",
        "_output_rate",
        "_seen",
        "ceiling",
        "exchange",
        "input_tokens",
        "priced",
    )

    def __init__(self, exchange: Exchange, *, price: bool) -> None:
        endpoint, request = exchange.endpoint, exchange.request
        self.exchange = exchange
        self.input_tokens: int = (
            _ask(endpoint.handler.estimate_input_tokens, endpoint, request) or 0
        )
        #: The output ceiling the request sets (``None``: none), lowered by a clamping budget.
        self.ceiling: int | None = _ask(endpoint.handler.max_output_tokens, endpoint, request)
        self._input_costs: dict[int, Decimal | None] = {}
        self._output_rate = _ZERO
        self._seen = 0
        self._counted = 0
        self.priced = False
        if price:
            base = self._input_cost(self.input_tokens)
            probe = self._price(self.input_tokens, _PROBE)
            if base is not None and probe is not None:
                self.priced = True
                self._output_rate = (probe - base) / _PROBE

    @property
    def model(self) -> str | None:
        """The model the request names."""
        return self.exchange.endpoint.request_model

    @property
    def provider(self) -> str:
        """The provider the request goes to."""
        return self.exchange.endpoint.provider

    # -- money -------------------------------------------------------------------

    def amount(self, output_tokens: int, input_tokens: int | None = None) -> Amount:
        """Money and tokens of a call with these counts (input: the estimate by default).

        Money is zero when the model is unpriced.
        """
        inputs = self.input_tokens if input_tokens is None else input_tokens
        if not self.priced:
            return Amount(_ZERO, inputs + output_tokens)
        cost = (self._input_cost(inputs) or _ZERO) + output_tokens * self._output_rate
        return Amount(cost, inputs + output_tokens)

    def affordable_output(self, money: Decimal) -> int | None:
        """Output tokens ``money`` pays for beyond the input; ``None`` when output is free."""
        if self._output_rate <= 0:
            return None
        left = money - self.amount(0).cost_usd
        return int((left / self._output_rate).to_integral_value(ROUND_FLOOR))

    def _input_cost(self, input_tokens: int) -> Decimal | None:
        if input_tokens not in self._input_costs:
            self._input_costs[input_tokens] = self._price(input_tokens, 0)
        return self._input_costs[input_tokens]

    def _price(self, input_tokens: int, output_tokens: int) -> Decimal | None:
        exchange = self.exchange
        endpoint = exchange.endpoint
        if endpoint.request_model is None:
            return None
        usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
        try:
            return exchange.ports.price(
                endpoint.provider,
                endpoint.request_model,
                usage,
                endpoint.service_tier,
                endpoint.batch,
                exchange.timestamp,
            )
        except Exception:
            logger.debug("tokenbudget: pre-flight pricing failed", exc_info=True)
            return None

    # -- the request ----------------------------------------------------------------

    def lower_ceiling(self, value: int) -> None:
        """Send the request with its output ceiling set to ``value`` (a clamping budget)."""
        exchange = self.exchange
        endpoint = exchange.endpoint
        override = endpoint.handler.max_output_fields(endpoint, exchange.request, value)
        if override:
            exchange.body_overrides.update(override)
            self.ceiling = value

    # -- a stream in flight -----------------------------------------------------------

    def running(self) -> tuple[int, int]:
        """Input and output tokens of the response so far: reported figures, else counted.

        Counts only the text added since the last call, so a long stream costs
        each piece of text one tokenization, not one per check.
        """
        observation = self.exchange.observation
        if observation is None:
            return self.input_tokens, 0
        text = observation.output_text
        pieces = text.pieces  # in order; only the pieces added since the last call are new
        if len(pieces) < self._seen:  # cleared: the provider reported usage
            self._seen = 0
        if len(pieces) > self._seen:
            model = observation.model or self.model
            for piece in pieces[self._seen :]:
                self._counted += count_text_tokens(piece, model)[0]
            self._seen = len(pieces)
        counted = self._counted + -(-text.overflow // 4)  # past OutputText's bound: ~4 chars/token
        usage = observation.usage
        if usage is None:
            return self.input_tokens, counted
        return usage.input_tokens or self.input_tokens, max(counted, usage.output_tokens)


def _ask(
    method: Callable[[Endpoint, RequestView], T], endpoint: Endpoint, request: RequestView
) -> T | None:
    """A provider's pre-flight figure; ``None`` if it fails (logged: the call still goes)."""
    try:
        return method(endpoint, request)
    except Exception:
        logger.debug("tokenbudget: pre-flight estimate failed", exc_info=True)
        return None
