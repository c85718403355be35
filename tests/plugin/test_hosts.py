"""``--tokenbudget-host=HOST=PROVIDER`` and the ini option ``tokenbudget_hosts``.

Without a mapping, a gateway or local server is recognised by its paths and its
calls priced by model name; a mapping chooses the provider instead, for the
calls of every test and those made outside tests.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from .helpers import cost_of, suite

#: OpenAI clients at a LiteLLM-style proxy on localhost and at a gateway, over FakeLLM.
HOSTED = """
import json
import openai
import httpx2
from tokenbudget.testing import FakeLLM

import llm

def client(base_url):
    http_client = httpx2.Client(transport=FakeLLM())
    return openai.OpenAI(api_key="k", base_url=base_url, http_client=http_client, max_retries=0)

PROXY = client("http://localhost:4000/v1")
GATEWAY = client("http://llm-gw.internal/v1")
llm.ask(PROXY, "at import")

def test_proxy(tokenbudget):
    llm.ask(PROXY)
    (record,) = tokenbudget.records
    print("PROXY", json.dumps([record.provider, str(record.cost_usd), record.via]))

def test_gateway(tokenbudget):
    llm.ask(GATEWAY, model="acme-70b")
    (record,) = tokenbudget.records
    print("GATEWAY", json.dumps([record.provider, record.model, record.via]))
"""


def _seen(result: pytest.RunResult, label: str) -> list[object]:
    marker = label + " ["
    line = next(line for line in result.stdout.lines if marker in line)
    found: list[object] = json.loads(line[line.index(marker) + len(label) + 1 :].rstrip(". "))
    return found


def _outside_cost(pytester: pytest.Pytester) -> Decimal:
    document = json.loads((pytester.path / "usage.json").read_text())
    (outside,) = document["outside_tests"]
    return Decimal(outside["cost_usd"])


def test_unmapped_hosts_are_priced_by_model_name(pytester: pytest.Pytester) -> None:
    suite(pytester, test_hosts=HOSTED)
    result = pytester.runpytest("-p", "no:cacheprovider", "-s", "--tokenbudget-json=usage.json")
    result.assert_outcomes(passed=2)
    assert _seen(result, "PROXY") == ["openai", str(cost_of()), "localhost:4000"]
    assert _seen(result, "GATEWAY") == [
        "openai-compatible",
        "llm-gw.internal/acme-70b",
        "llm-gw.internal",
    ]
    assert _outside_cost(pytester) == cost_of("at import") > 0


def test_the_command_line_maps_hosts(pytester: pytest.Pytester) -> None:
    suite(pytester, test_hosts=HOSTED)
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-s",
        "--tokenbudget-json=usage.json",
        "--tokenbudget-host=localhost:4000=local",
        "--tokenbudget-host",
        "LLM-GW.internal=openai",
    )
    result.assert_outcomes(passed=2)
    assert _seen(result, "PROXY") == ["local", "0", None]  # free, as chosen: no mark
    assert _seen(result, "GATEWAY") == ["openai", "acme-70b", None]
    assert _outside_cost(pytester) == 0  # the session's own tracker maps them too


def test_the_ini_option_maps_hosts_and_the_command_line_wins(pytester: pytest.Pytester) -> None:
    suite(pytester, test_hosts=HOSTED)
    pytester.makeini(
        """
        [pytest]
        filterwarnings = error
        asyncio_default_fixture_loop_scope = function
        tokenbudget_hosts =
            localhost:4000 = local
            llm-gw.internal = local
        """
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-s", "--tokenbudget-host=llm-gw.internal=openai"
    )
    result.assert_outcomes(passed=2)
    assert _seen(result, "PROXY") == ["local", "0", None]
    assert _seen(result, "GATEWAY") == ["openai", "acme-70b", None]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("localhost:4000", "*takes HOST=PROVIDER, e.g. localhost:4000=local*"),
        ("http://localhost:4000=local", "*takes HOST=PROVIDER*'http://localhost:4000=local'*"),
        ("localhost:4000=", "*takes HOST=PROVIDER*"),
        (
            "localhost:4000=openia",
            "*--tokenbudget-host localhost:4000=openia: unknown provider 'openia' (known: *openai*",
        ),
    ],
)
def test_a_bad_mapping_stops_the_run_with_what_to_write(
    pytester: pytest.Pytester, value: str, message: str
) -> None:
    suite(pytester, test_hosts="def test_nothing():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", f"--tokenbudget-host={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
