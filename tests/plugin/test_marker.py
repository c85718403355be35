"""``@pytest.mark.tokenbudget(...)``: the crossing call completes, later ones are refused."""

from __future__ import annotations

import pytest

from .helpers import cost_of, suite, usd


def test_within_its_limits_a_test_passes(pytester: pytest.Pytester) -> None:
    suite(
        pytester,
        test_ok="""
        import pytest
        import llm

        @pytest.mark.tokenbudget(max_cost_usd=0.01, max_tokens=1000, max_calls=2)
        def test_ok():
            client = llm.client()
            llm.ask(client)
            llm.ask(client)
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_fails_on_cost_and_refuses_the_calls_after_the_crossing(pytester: pytest.Pytester) -> None:
    one = cost_of()
    limit = one / 2
    suite(
        pytester,
        test_cost=f"""
        import pytest
        import tokenbudget as tb
        from tokenbudget.testing import FakeLLM
        import llm

        @pytest.mark.tokenbudget(max_cost_usd="{limit}")
        def test_cost(tokenbudget):
            fake = FakeLLM()
            client = llm.client(fake)
            llm.ask(client)  # crosses the limit: completes, its answer was paid for
            with pytest.raises(tb.BudgetExceeded) as refused:
                llm.ask(client)
            print("REFUSAL:", refused.value)
            print("SENT:", fake.calls)
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"tokenbudget: test spent {usd(one)} > max_cost_usd={usd(limit)} "
            f"(1 call, 1 refused; top: gpt-4o {usd(one)})",
            "Raise the limit in @pytest.mark.tokenbudget(...) or make the test's LLM calls *",
            "*Captured stdout call*",
            f"REFUSAL: tokenbudget: test test_cost.py::test_cost reached its "
            f"max_cost_usd={usd(limit)} (spent {usd(one)}); the call to gpt-4o was not sent",
            "SENT: 1",
        ]
    )


def test_fails_on_calls_with_the_refusal_and_the_spending(pytester: pytest.Pytester) -> None:
    suite(
        pytester,
        test_calls="""
        import pytest
        import llm

        @pytest.mark.tokenbudget(max_calls=2)
        def test_calls():
            client = llm.client()
            for text in ("one", "two", "three"):
                llm.ask(client, text)
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E*CallLimitReached: tokenbudget: test test_calls.py::test_calls reached its "
            "max_calls=2; the call to gpt-4o was not sent",
            "*Captured tokenbudget call*",
            "tokenbudget: test tried to make more than max_calls=2 LLM calls "
            "(2 calls, 1 refused; top: gpt-4o * (2 calls))",
        ]
    )


def test_fails_on_tokens(pytester: pytest.Pytester) -> None:
    suite(
        pytester,
        test_tokens="""
        import pytest
        import llm

        @pytest.mark.tokenbudget(max_tokens=10)
        def test_tokens():
            llm.ask(llm.client(), "a rather long question for such a small budget of tokens")
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*tokenbudget: test used * tokens > max_tokens=10 (1 call; top:*"])


def test_refusals_reach_the_caller_through_the_anthropic_sdk(pytester: pytest.Pytester) -> None:
    """anthropic 2.x wraps and retries foreign errors: the refusal must come through as it is."""
    suite(
        pytester,
        test_anthropic="""
        import anthropic
        import httpx2
        import pytest
        import tokenbudget as tb
        from tokenbudget.testing import FakeLLM

        @pytest.mark.tokenbudget(max_calls=1)
        def test_anthropic():
            fake = FakeLLM()
            client = anthropic.Anthropic(
                api_key="k", http_client=httpx2.Client(transport=fake), max_retries=3
            )

            def ask():
                return client.messages.create(
                    model="claude-sonnet-4-6", max_tokens=50,
                    messages=[{"role": "user", "content": "Hi"}],
                )

            ask()
            with pytest.raises(tb.pytest_plugin.CallLimitReached):
                ask()
            assert fake.calls == 1
            print("REFUSED AT ONCE")
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*test tried to make more than max_calls=1 LLM calls*", "REFUSED AT ONCE"]
    )


def test_an_expected_overspend_can_be_marked_xfail(pytester: pytest.Pytester) -> None:
    suite(
        pytester,
        test_xfail="""
        import pytest
        import llm

        @pytest.mark.xfail(strict=True, reason="shows the limit failing the test")
        @pytest.mark.tokenbudget(max_cost_usd=0)
        def test_xfail():
            llm.ask(llm.client())
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(xfailed=1)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("max_cost=1", "unknown option max_cost (valid: max_cost_usd, max_tokens, max_calls)"),
        ("0.5", "give the limits by name: tokenbudget(max_cost_usd, max_tokens, max_calls)"),
        ("max_calls=-1", "max_calls must be a non-negative int, not -1"),
        ("max_cost_usd='lots'", "max_cost_usd must be a non-negative amount, not 'lots'"),
    ],
)
def test_a_bad_marker_is_a_setup_error_saying_what_is_wrong(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    suite(
        pytester,
        test_bad=f"""
        import pytest

        @pytest.mark.tokenbudget({marker})
        def test_bad():
            pass
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.tokenbudget: {message}"])


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    suite(pytester)
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.tokenbudget(max_cost_usd=None, max_tokens=None, max_calls=None): *",
            "@pytest.mark.fake_llm(*args, **kwargs): *",
        ]
    )


def test_a_test_limit_refuses_when_the_request_is_built(pytester: pytest.Pytester) -> None:
    """Old SDKs wrap and retry whatever the transport raises: the plugin's limits refuse
    earlier, in the client's ``build_request``, so the request hooks never see the call."""
    suite(
        pytester,
        test_early="""
        import httpx2
        import openai
        import pytest
        from tokenbudget.pytest_plugin import CallLimitReached
        from tokenbudget.testing import FakeLLM

        @pytest.mark.tokenbudget(max_calls=1)
        def test_early():
            fake, hooked = FakeLLM(), []
            http = httpx2.Client(transport=fake, event_hooks={"request": [hooked.append]})
            client = openai.OpenAI(api_key="k", http_client=http)
            ask = lambda: client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]
            )
            ask()
            with pytest.raises(CallLimitReached):
                ask()
            print("HOOKED", len(hooked), "SENT", fake.calls)
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*HOOKED 1 SENT 1*", "*test tried to make more than max_calls=1 LLM calls*"]
    )
