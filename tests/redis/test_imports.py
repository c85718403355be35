"""Nothing about Redis is imported until used; without the client, the error says what to do."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_tokenbudget_does_not_import_redis_until_used() -> None:
    done = run(
        "import sys, tokenbudget\n"
        "tokenbudget.budget(max_cost_usd=1)\n"
        "tokenbudget.TokenTracker(store='sqlite://').close()\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'redis'], 'imported'\n"
        "tokenbudget.budget(max_cost_usd=1, key='k', backend='redis://127.0.0.1:1/0')\n"
        "assert 'redis' in sys.modules\n"
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "use",
    [
        "tokenbudget.budget(max_cost_usd=1, key='k', backend='redis://127.0.0.1:1/0')",
        "tokenbudget.TokenTracker(store='redis://127.0.0.1:1/0')",
    ],
)
def test_without_the_redis_client_the_error_names_the_extra(use: str) -> None:
    done = run(f"import sys; sys.modules['redis'] = None\nimport tokenbudget\n{use}\n")
    assert done.returncode == 1
    assert 'pip install "tokenbudget[redis]"' in done.stderr.splitlines()[-1]
