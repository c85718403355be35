"""The README's ``## Budgets`` examples run as written, and so does examples/budgets.py."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai

from tokenbudget import Budget, TokenTracker
from tokenbudget.testing import FakeLLM

ROOT = Path(__file__).resolve().parents[2]


def budget_blocks() -> list[str]:
    """The python code blocks of the README's Budgets section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Budgets\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def test_the_readme_examples_run_as_written() -> None:
    fake = FakeLLM(reply="A short story about a careful budget.")
    tracker = TokenTracker()  # the built-in prices
    client = openai.OpenAI(api_key="sk-fake", http_client=tracker.httpx_client(transport=fake))
    namespace: dict[str, Any] = {
        "client": client,
        "tracker": tracker,
        "documents": ["The first document.", "The second document."],
    }
    blocks = budget_blocks()
    assert len(blocks) == 6
    for block in blocks:
        exec(compile(block, "README.md#budgets", "exec"), namespace)
    ctx: Budget = namespace["ctx"]
    assert ctx.current_usage.calls == 3  # the pool's two summaries and the thread's one
    story = fake.requests[-1].body
    assert story["messages"][0]["content"] == "Tell me a story."
    # $0.002 at gpt-4o-mini's $0.15 / $0.60 per 1M: 12 input tokens leave 3330 output tokens
    assert story["max_tokens"] == int(
        (Decimal("0.002") - Decimal("0.0000018")) / Decimal("0.0000006")
    )
    daily: Budget = namespace["daily"]
    assert daily.remaining_budget == 5 and daily.per == "day"


def test_the_example_runs_offline() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", str(ROOT / "examples" / "budgets.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "refused:   budget 'batch' is spent" in result.stdout
    assert re.search(r"clamp: +the server was asked for max_tokens=\d+", result.stdout)
    assert re.search(r"pool: +\d calls made, \d refused", result.stdout)
