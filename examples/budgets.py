"""Budgets: refuse the call that cannot fit, before it is sent. Offline.

The calls are answered by ``tokenbudget.testing.FakeLLM`` (OpenAI's wire format,
usage counted with the tokenizer), priced at the built-in gpt-4o-mini prices
($0.15 per 1M input tokens, $0.60 per 1M output tokens).

    pip install -e ".[all]"
    python examples/budgets.py
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import openai

from tokenbudget import (
    BudgetExceeded,
    TokenLimitReached,
    TokenTracker,
    budget,
    context_executor,
    current_budget,
)
from tokenbudget.testing import FakeLLM

MODEL = "gpt-4o-mini"


def ask(client: openai.OpenAI, question: str, **options: Any) -> str:
    answer = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": question}], **options
    )
    return answer.choices[0].message.content or ""


def main() -> None:
    tracker = TokenTracker()
    fake = FakeLLM(reply="A budget is a promise you make to your future self. " * 8)
    client = openai.OpenAI(api_key="sk-fake", http_client=tracker.httpx_client(transport=fake))

    # 1. A decorator: each call of the function may use 400 tokens.
    @budget(max_tokens=400, name="per-question")
    def answer(question: str) -> str:
        text = ask(client, question)
        ctx = current_budget()
        assert ctx is not None
        print(f"decorator: {ctx.current_usage.total_tokens} tokens, {ctx.remaining_tokens} left")
        return text

    answer("What is a budget?")
    answer("And another one?")  # a fresh budget for each call

    # 2. A block: the call that crosses the limit is kept, the next one is never sent.
    with budget(max_cost_usd=Decimal("0.00015"), name="batch") as ctx:
        for number in range(10):
            try:
                ask(client, f"Question {number}?")
            except BudgetExceeded as error:
                print(f"refused:   {error}")
                break
        print(f"block:     {ctx.current_usage}, exceeded={ctx.exceeded}")
    print(f"sent:      {fake.calls} requests reached the (fake) server")

    # 3. clamp: lower max_tokens to what is left instead of refusing.
    with budget(max_tokens=60, preflight="clamp", min_output_tokens=8):
        ask(client, "Tell me everything.", max_tokens=1000)
    sent = fake.last_request.body["max_tokens"] if fake.last_request else None
    print(f"clamp:     the server was asked for max_tokens={sent}")

    # 4. A tracker-wide daily budget; worst_case reserves each call's max_tokens, so
    #    calls running in parallel (the pool carries the context) never overshoot together.
    daily = tracker.add_budget(
        budget(max_tokens=250, per="day", preflight="worst_case", name="daily")
    )
    with budget(max_tokens=10_000) as pool_budget, context_executor(max_workers=4) as pool:
        futures = [pool.submit(ask, client, f"Question {n}?", max_tokens=100) for n in range(4)]
        refused = sum(isinstance(future.exception(), TokenLimitReached) for future in futures)
    print(f"pool:      {pool_budget.current_usage.calls} calls made, {refused} refused")
    used = daily.current_usage.total_tokens
    print(f"daily:     {used} of 250 tokens today, resets {daily.resets_at:%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
