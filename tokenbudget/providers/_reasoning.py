"""Whether a request makes the model reason: then a count of the visible text undercounts.

Reasoning models bill hidden reasoning tokens as output. When the answer
reports no usage, tokenbudget counts the text it saw, which leaves every
reasoning token out (an o4-mini stream was once estimated at a thirtieth of
its cost), so such an estimate must say so: :func:`reasons` decides from the
request, then the model's name.

- Anthropic models reason only when the request enables ``thinking``.
- Gemini models reason unless ``generationConfig.thinkingConfig.thinkingBudget``
  is 0; 2.5 and later think by default (Flash-Lite does not).
- OpenAI-style requests: ``reasoning_effort`` / ``reasoning.effort`` other than
  ``"none"``, or a reasoning model by name: the o-series, ``gpt-5`` (not its
  ``-chat`` models), ``gpt-oss``, DeepSeek's reasoner and R1, xAI's mini and
  reasoning models, QwQ, Magistral, Perplexity's reasoning models.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["reasons"]

_REASONING_NAMES = re.compile(
    r"""^(?:
        o\d(?:$|[-.])              # o1, o3-mini, o4-mini-2025-04-16
      | gpt-5(?!.*-chat)           # gpt-5, gpt-5-mini; not gpt-5-chat-latest
      | gpt-oss
      | deepseek-(?:reasoner|r1)
      | grok-(?:3-mini|4)(?!.*non-reasoning)
      | qwq | magistral
      | sonar-(?:reasoning|deep-research)
      | gemini-(?:2\.5|[3-9])(?!.*flash-lite)
    )""",
    re.VERBOSE,
)
_THINKING_TYPES = ("enabled", "adaptive")


def reasons(model: str | None, body: Any) -> bool:
    """True when the request ``body`` to ``model`` makes it reason (hidden output tokens)."""
    if isinstance(body, Mapping):
        decided = _asked(body)
        if decided is not None:
            return decided
    name = (model or "").rsplit("/", 1)[-1].lower()
    return bool(_REASONING_NAMES.match(name)) and "non-reasoning" not in name


def _asked(body: Mapping[str, Any]) -> bool | None:
    """What the request itself says about reasoning, or ``None`` when it says nothing."""
    thinking = body.get("thinking")  # Anthropic
    if isinstance(thinking, Mapping):
        return thinking.get("type") in _THINKING_TYPES
    config = body.get("generationConfig")  # Gemini
    thinking_config = config.get("thinkingConfig") if isinstance(config, Mapping) else None
    if isinstance(thinking_config, Mapping):
        if thinking_config.get("thinkingBudget") == 0:
            return False
        if thinking_config.get("thinkingBudget") or thinking_config.get("thinkingLevel"):
            return True
    reasoning = body.get("reasoning")  # OpenAI Responses
    effort = body.get("reasoning_effort")  # OpenAI chat and compatible hosts
    if isinstance(reasoning, Mapping):
        effort = reasoning.get("effort", effort)
    if isinstance(effort, str):
        return effort != "none"
    return None
