"""The ``tokenbudget`` fixture: which calls a test gets, and the assertion helpers."""

from __future__ import annotations

import pytest

from .helpers import cost_of, suite, usd


def test_a_test_gets_its_own_calls_from_a_module_level_client(pytester: pytest.Pytester) -> None:
    suite(
        pytester,
        test_calls="""
        import llm

        CLIENT = llm.client()  # built at import time, before any test runs

        def test_two_calls(tokenbudget):
            llm.ask(CLIENT)
            llm.ask(CLIENT, "Bye")
            assert tokenbudget.usage.calls == 2
            tokenbudget.assert_calls(2, provider="openai")
            tokenbudget.assert_calls(2, model="gpt-4o")
            tokenbudget.assert_calls(0, provider="anthropic")
            tokenbudget.assert_no_calls_to("anthropic")
            tokenbudget.assert_cost_below(1)
            tokenbudget.assert_tokens_below(1000)
            assert tokenbudget.cost == tokenbudget.total_cost > 0

        def test_a_fresh_tracker_each_time(tokenbudget, token_tracker):
            assert token_tracker is tokenbudget
            assert tokenbudget.usage.calls == 0
            llm.ask(CLIENT)
            tokenbudget.assert_calls(1)
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_clients_of_every_kind_are_counted_once(pytester: pytest.Pytester) -> None:
    """Clients built in the test, by the fixture, by the app's own tracker or ``patch_all``."""
    suite(
        pytester,
        test_kinds="""
        import openai
        import pytest
        import tokenbudget as tb
        from tokenbudget.testing import FakeLLM

        import llm

        APP = tb.TokenTracker()
        OWN = openai.OpenAI(api_key="k", http_client=APP.httpx_client(transport=FakeLLM()))
        tb.patch_all(APP)  # the app tracks every client it builds from now on
        PATCHED = llm.client()

        def test_each_kind(tokenbudget, fake_llm):
            llm.ask(llm.client(fake_llm))
            llm.ask(OWN)
            llm.ask(PATCHED)
            mine = tokenbudget.httpx_client(transport=FakeLLM())
            llm.ask(openai.OpenAI(api_key="k", http_client=mine))
            llm.ask(tokenbudget.wrap_openai(PATCHED))
            tokenbudget.assert_calls(5)
            assert fake_llm.calls == 1
            assert APP.usage.calls == 4  # the app's tracker still sees what it tracks

        def test_async(tokenbudget):
            import asyncio
            import httpx2

            async def main():
                client = openai.AsyncOpenAI(
                    api_key="k", http_client=httpx2.AsyncClient(transport=FakeLLM())
                )
                await client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
                )

            asyncio.run(main())
            tokenbudget.assert_calls(1, model="gpt-4o-mini")

        @pytest.mark.asyncio
        async def test_pytest_asyncio(tokenbudget):
            import httpx2

            client = openai.AsyncOpenAI(
                api_key="k", http_client=httpx2.AsyncClient(transport=FakeLLM())
            )
            await client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]
            )
            tokenbudget.assert_calls(1)

        def test_threads(tokenbudget):
            from concurrent.futures import ThreadPoolExecutor

            client = llm.client()
            with ThreadPoolExecutor(4) as pool:  # plain threads: no context copied
                list(pool.map(lambda text: llm.ask(client, text), ["a", "b", "c", "d"]))
            tokenbudget.assert_calls(4)

        def teardown_module():
            tb.unpatch_all()
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_the_code_under_test_behaves_as_without_the_plugin(pytester: pytest.Pytester) -> None:
    """Beneath the app's own trackers the plugin only watches: requests and budgets are theirs."""
    suite(
        pytester,
        test_transparent="""
        import json

        import httpx
        import httpx2
        import openai
        import tokenbudget as tb
        from tokenbudget.testing import FakeLLM

        import llm

        def test_no_stream_usage_injected_that_the_app_did_not_ask_for(tokenbudget):
            fake = FakeLLM()
            app = tb.TokenTracker(inject_stream_usage=False)
            llm.stream(openai.OpenAI(api_key="k", http_client=app.httpx_client(transport=fake)))
            assert "stream_options" not in fake.last_request.body
            tokenbudget.assert_calls(1)
            assert app.usage.calls == 1

        def test_a_plain_run_asks_for_stream_usage_and_hides_it(tokenbudget):
            fake = FakeLLM()
            client = openai.OpenAI(api_key="k", http_client=httpx2.Client(transport=fake))
            chunks = list(client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
            ))
            assert fake.last_request.body["stream_options"] == {"include_usage": True}
            assert all(chunk.choices and chunk.usage is None for chunk in chunks)
            tokenbudget.assert_calls(1)
            assert not tokenbudget.records[-1].estimated  # the provider's own figures

        def test_a_suite_may_turn_the_injection_off(tokenbudget):
            tokenbudget.inject_stream_usage = False
            fake = FakeLLM()
            llm.stream(openai.OpenAI(api_key="k", http_client=httpx2.Client(transport=fake)))
            assert "stream_options" not in fake.last_request.body
            assert tokenbudget.records[-1].estimated  # counted with tiktoken instead

        def test_one_call_through_two_app_trackers_is_charged_once(tokenbudget):
            outer, inner = tb.TokenTracker(), tb.TokenTracker()
            both = outer.transport(inner.transport(FakeLLM()))
            client = openai.OpenAI(api_key="k", http_client=httpx2.Client(transport=both))
            with tb.budget(max_tokens=1000) as ctx:
                llm.ask(client)
            assert ctx.current_usage.calls == 1
            tokenbudget.assert_calls(1)

        def test_a_budget_scoped_to_the_fixture_still_applies_beneath(tokenbudget):
            client = openai.OpenAI(api_key="k", http_client=tb.TokenTracker().httpx_client(
                transport=FakeLLM()))
            with tb.budget(max_tokens=1000, tracker=tokenbudget) as mine:
                llm.ask(client)
            assert mine.current_usage.calls == 1

        class Duck:  # a transport httpx accepts but tokenbudget cannot wrap
            def handle_request(self, request):
                return httpx2.Response(200, json={"ok": True}, request=request)

        def test_clients_it_cannot_track_are_left_alone():
            assert httpx2.Client(transport=Duck()).get("https://example.com").json() == {"ok": True}
            with httpx.Client(transport=FakeLLM(family="httpx2")) as client:  # other family
                reply = client.post(
                    "https://api.openai.com/v1/chat/completions",
                    json={"model": "gpt-4o", "messages": []},
                )
            assert reply.status_code == 200
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=6)


def test_calls_in_fixtures_count_for_the_test_that_ran_them(pytester: pytest.Pytester) -> None:
    suite(
        pytester,
        conftest="""
        import pytest
        import llm

        @pytest.fixture
        def warmed():
            client = llm.client()
            llm.ask(client, "setup")
            yield client
            llm.ask(client, "teardown")
        """,
        test_setup="""
        import llm

        def test_one(warmed, tokenbudget):
            tokenbudget.assert_calls(1)
            llm.ask(warmed)
            tokenbudget.assert_calls(2)
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--tokenbudget-report")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_setup.py::test_one * 3 *"])


def test_cost_assertion_failure_lists_the_calls(pytester: pytest.Pytester) -> None:
    suite(
        pytester,
        test_costly="""
        import llm

        def test_costly(tokenbudget):
            client = llm.client()
            llm.ask(client)
            llm.ask(client, model="gpt-4o-mini")
            tokenbudget.assert_cost_below(0.000001)
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    cost = cost_of() + cost_of(model="gpt-4o-mini")
    result.stdout.fnmatch_lines(
        [
            ">*tokenbudget.assert_cost_below(0.000001)",  # the test's line, not the helper's
            f"E*AssertionError: tokenbudget: expected the test's LLM calls to cost below "
            f"$0.000001, they cost {usd(cost)} (2 calls):",
            f"E*1. openai gpt-4o chat: * in + * out tokens, {usd(cost_of())}",
            "E*2. openai gpt-4o-mini* chat: *",
        ]
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("tokenbudget.assert_calls(1)", "*expected 1 call, the test made 2 calls:"),
        (
            'tokenbudget.assert_calls(1, provider="anthropic")',
            "*expected 1 call to anthropic, the test made none:",
        ),
        (
            'tokenbudget.assert_no_calls_to("openai")',
            "*expected no LLM calls to openai, the test made 2 calls:",
        ),
        (
            "tokenbudget.assert_tokens_below(5)",
            "*expected the test's LLM calls to use fewer than 5 tokens, they used * (* in + * out,"
            " 2 calls):",
        ),
    ],
)
def test_assertion_messages(pytester: pytest.Pytester, body: str, expected: str) -> None:
    suite(
        pytester,
        test_helper=f"""
        import llm

        def test_helper(tokenbudget):
            client = llm.client()
            llm.ask(client)
            llm.ask(client)
            {body}
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([expected, "*1. openai gpt-4o chat: *"])


def test_an_unpriced_model_cannot_pass_a_cost_assertion(pytester: pytest.Pytester) -> None:
    suite(
        pytester,
        test_unpriced="""
        import llm

        def test_unpriced(tokenbudget):
            llm.ask(llm.client(), model="my-own-model")
            tokenbudget.assert_cost_below(1)
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "ignore")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*cannot tell whether the test's LLM calls cost below $1.00: 1 call went to models "
            "with no known price. Add their prices with tokenbudget.register_model(...):"
        ]
    )
