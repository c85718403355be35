"""Budget work is on a call's path only once the process can refuse a call.

A tracked client gets its ``build_request`` wrapper (the early refusal) when the
process makes its first budget, or a tracker that refuses without one (a subclass
with its own ``may_refuse``, as the pytest plugin's): until then building a request
runs no tokenbudget code. Likewise a tracker admits its calls (``TokenTracker.admit``)
only once the process has a budget, unless its class has an ``admit`` of its own.
Each case runs in a fresh interpreter (this suite's pytest plugin arms every process
it runs in), through the real openai SDK on both families.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

PRELUDE = """
import httpx, httpx2, openai, tokenbudget
from tokenbudget import TokenTracker, TokenLimitReached
CHAT = open({chat!r}, "rb").read()
sent = []
def handler(request):
    sent.append(request)
    return {family}.Response(200, headers={{"content-type": "application/json"}}, content=CHAT)
def client(tracker):
    http = tracker.httpx_client({family!r}, transport={family}.MockTransport(handler))
    return http, openai.OpenAI(api_key="sk-test", http_client=http)
MESSAGES = [{{"role": "user", "content": "Hi"}}]
def ask(sdk):
    return sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)
"""


def run(family: str, body: str, setup: str = "") -> str:
    chat = str(ROOT / "fixtures" / "openai" / "chat.json")
    script = PRELUDE.format(chat=chat, family=family) + setup + textwrap.dedent(body)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("family", ["httpx", "httpx2"])
def test_without_a_budget_building_a_request_runs_nothing_of_ours(family: str) -> None:
    out = run(
        family,
        """
        tracker = TokenTracker()
        http, sdk = client(tracker)
        ask(sdk)
        print("build_request" in vars(http), tracker.usage.calls, len(sent))
        """,
    )
    assert out == "False 1 1"


@pytest.mark.parametrize("family", ["httpx", "httpx2"])
def test_the_first_budget_arms_the_clients_made_before_it(family: str) -> None:
    out = run(
        family,
        """
        tracker = TokenTracker()
        http, sdk = client(tracker)
        ask(sdk)
        with tokenbudget.budget(max_tokens=1):
            try:
                ask(sdk)
            except TokenLimitReached as refused:
                print("refused", refused.reason, "build_request" in vars(http))
        later, sdk2 = client(TokenTracker())
        print("build_request" in vars(later), len(sent), tracker.usage.calls)
        """,
    )
    # Refused as the request was built: nothing sent, no SDK retry, nothing recorded.
    assert out.splitlines() == ["refused preflight True", "True 1 1"]


@pytest.mark.parametrize("family", ["httpx", "httpx2"])
def test_a_tracker_that_refuses_without_budgets_arms_at_once(family: str) -> None:
    out = run(
        family,
        """
        from tokenbudget import TokenLimitReached

        class Closed(TokenTracker):
            def may_refuse(self):
                return True

            def refuse_early(self, exchange):
                raise TokenLimitReached("closed", limit=0, spent=0, estimate=1)

        http, sdk = client(Closed())
        try:
            ask(sdk)
        except TokenLimitReached:
            print("refused", "build_request" in vars(http), len(sent))
        """,
    )
    assert out == "refused True 0"


ADMISSIONS = """
admitted = []
own_admit = TokenTracker.admit
def counted(self, exchange):
    admitted.append(self)
    return own_admit(self, exchange)
TokenTracker.admit = counted
"""


@pytest.mark.parametrize("family", ["httpx", "httpx2"])
def test_calls_are_admitted_once_the_process_has_a_budget(family: str) -> None:
    out = run(
        family,
        setup=ADMISSIONS,
        body="""
        tracker = TokenTracker()
        http, sdk = client(tracker)
        ask(sdk)
        print(len(admitted), tracker.usage.calls)
        with tokenbudget.budget(max_tokens=1_000_000):
            ask(sdk)
        ask(sdk)  # outside the budget: still admitted (this tracker may get one any time)
        later = TokenTracker()
        ask(client(later)[1])
        print(len(admitted), tracker.usage.calls, admitted.count(later))
        """,
    )
    assert out.splitlines() == ["0 1", "3 3 1"]


@pytest.mark.parametrize("family", ["httpx", "httpx2"])
def test_a_tracker_with_a_budget_or_its_own_admit_admits_from_its_first_call(
    family: str,
) -> None:
    out = run(
        family,
        setup=ADMISSIONS,
        body="""
        class Gated(TokenTracker):
            def admit(self, exchange):
                admitted.append("own")
                return ()

        ask(client(Gated())[1])
        print(admitted)
        capped = TokenTracker(max_tokens=1)
        http, sdk = client(capped)
        try:
            ask(sdk)
        except TokenLimitReached as refused:
            print("refused", refused.reason, len(sent), capped.usage.calls)
        """,
    )
    assert out.splitlines() == ["['own']", "refused preflight 1 0"]


def test_callbacks_wait_for_the_first_budget_and_forget_owners_gone_before_it() -> None:
    out = run(
        "httpx2",
        """
        import gc
        from tokenbudget.budgets import budgets_exist, when_budgets_exist

        class Owner:
            pass

        calls = []
        kept, gone = Owner(), Owner()
        when_budgets_exist(lambda: calls.append("plain"))
        when_budgets_exist(lambda owner: calls.append(owner is kept), owner=kept)
        when_budgets_exist(lambda owner: calls.append("gone"), owner=gone)
        del gone
        gc.collect()
        print(budgets_exist(), calls)
        tokenbudget.budget(max_tokens=10)
        tokenbudget.budget(max_tokens=10)  # the first budget only
        when_budgets_exist(lambda owner: calls.append("late"), owner=kept)
        print(budgets_exist(), calls)
        """,
    )
    assert out.splitlines() == ["False []", "True ['plain', True, 'late']"]
