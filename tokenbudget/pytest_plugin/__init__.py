"""The tokenbudget pytest plugin: cost assertions, per-test cost reports, record and replay.

Loaded automatically when tokenbudget is installed (entry point ``pytest11``,
name ``tokenbudget``); ``pytest -p no:tokenbudget`` turns it off. It tracks
every LLM call made by any httpx/httpx2 client in the test process, SDK
clients built at import time included, and gives each test its own calls::

    @pytest.mark.tokenbudget(max_cost_usd=0.01, max_calls=3)
    def test_summary(tokenbudget):
        summarise(document)
        tokenbudget.assert_cost_below(0.005)
        tokenbudget.assert_calls(1, provider="openai")
        tokenbudget.assert_no_calls_to("anthropic")

Fixtures: ``tokenbudget`` (alias ``token_tracker``): the test's
:class:`PytestTracker`; ``fake_llm``: a :class:`~tokenbudget.testing.FakeLLM`.

Marker: ``@pytest.mark.tokenbudget(max_cost_usd=..., max_tokens=..., max_calls=...)``
(:class:`TokenbudgetOptions`): the call that crosses a limit completes, later
calls are refused (:class:`~tokenbudget.BudgetExceeded`,
:class:`~tokenbudget.TokenLimitReached`, :class:`CallLimitReached`), and the
test fails with what it spent, the limit and its costliest models.

Options: ``--tokenbudget-report`` (per-test cost table), ``--tokenbudget-max-cost=USD``
(fail the run above USD), ``--tokenbudget-json=PATH`` (per-test usage),
``--tokenbudget-record=DIR`` / ``--tokenbudget-replay=DIR`` (store every answer;
answer from the store, refusing any call not in it with :class:`UnrecordedCall`).
Works with pytest-xdist: workers' results are merged on the controller.

How calls are attributed, how replayed calls are counted and how misses are
refused: ``_trackers``, ``_limits`` and ``_recording``.
"""

from __future__ import annotations

from ..testing.fixtures import fake_llm
from ._errors import CallLimitReached, UnrecordedCall
from ._options import RunOptions, TokenbudgetOptions
from ._plugin import (
    pytest_addoption,
    pytest_configure,
    pytest_load_initial_conftests,
    pytest_report_header,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_runtest_protocol,
    pytest_runtest_setup,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
    token_tracker,
    tokenbudget,
)
from ._recording import FileBackend, Recording
from ._results import TestCost
from ._trackers import PytestTracker

__all__ = [
    "CallLimitReached",
    "FileBackend",
    "PytestTracker",
    "Recording",
    "RunOptions",
    "TestCost",
    "TokenbudgetOptions",
    "UnrecordedCall",
    "fake_llm",
    "pytest_addoption",
    "pytest_configure",
    "pytest_load_initial_conftests",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
    "pytest_runtest_setup",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "token_tracker",
    "tokenbudget",
]
