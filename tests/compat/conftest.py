"""The compatibility suite's fixtures: the independent server, trackers, what a refusal showed.

The sessions' plugin (the no-skip rule, the results file) is ``results.py``.
"""

from __future__ import annotations

import asyncio
import inspect
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tokenbudget import TokenTracker, patched

from .helpers import App, Refusal
from .results import RESULTS, describe
from .wire import WireServer

#: A deprecation warning raised from anywhere but tokenbudget (a warnings filter).
THEIR_DEPRECATIONS = "ignore::DeprecationWarning:(?!tokenbudget)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # An old SDK's or a framework's own deprecation notices (pydantic's ``.dict()``,
    # aiohttp's subclassing, ...) are no part of what the suite checks; tokenbudget's are.
    for item in items:
        if item.get_closest_marker("compat") is not None:
            item.add_marker(pytest.mark.filterwarnings(THEIR_DEPRECATIONS), append=False)


@pytest.fixture(autouse=True)
def close_a_loop_left_current(request: pytest.FixtureRequest) -> Iterator[None]:
    """A sync test's framework may leave a new event loop set as current and never close
    it (pydantic-ai's ``run_sync``, litellm): closed here, or collecting it later warns
    (``unclosed event loop``, an error under ``filterwarnings = error``) in another test."""
    yield
    if inspect.iscoroutinefunction(getattr(request, "function", None)):
        return  # pytest-asyncio's own loop: it closes it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running() and not loop.is_closed():
        loop.close()


@pytest.fixture
def wire() -> Iterator[WireServer]:
    """The independent loopback server, running for the test."""
    server = WireServer()
    with server.serving():
        yield server


@pytest.fixture
def tracker(request: pytest.FixtureRequest, wire: WireServer) -> TokenTracker:
    """A tracker that maps the server to the module's ``PROVIDER`` (a cache when asked:
    ``@pytest.mark.parametrize("tracker", [{"cache": "memory"}], indirect=True)``)."""
    options: dict[str, Any] = getattr(request, "param", {})
    return TokenTracker(hosts={wire.host: request.module.PROVIDER}, **options)


@pytest.fixture(scope="module")
def running_app() -> Iterator[App]:
    """One server and one patched, caching tracker for a framework's module.

    Frameworks keep the clients they build (per process, per base URL), bound to
    the tracker of the moment, so their tests share one, as an application does.
    """
    server = WireServer()
    with server.serving():
        tracker = TokenTracker(hosts={server.host: "openai"}, cache="memory")
        with patched(tracker):
            yield App(tracker, server)


@pytest.fixture
def app(running_app: App) -> App:
    """The framework module's application, with no record, no stored answer, no request."""
    running_app.tracker.reset()
    running_app.tracker.clear_cache()
    running_app.wire.requests.clear()
    running_app.wire.sent.clear()
    return running_app


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Callable[[Refusal], None]:
    """``observe(outcome)`` keeps what a refusal looked like to the user, for the table."""

    def keep(outcome: Refusal) -> None:
        RESULTS.refusals.append(describe(request.node, outcome))

    return keep
