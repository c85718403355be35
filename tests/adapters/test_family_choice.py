"""The family a tracked client gets when none is named: one that every installed SDK accepts.

The rule is a table of SDK releases (``tokenbudget._adapters._sdks``); here it is checked
with versions given outright, and through ``tracker.httpx_client()`` with the one lookup
of installed versions replaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata

import httpx
import httpx2
import pytest

import tokenbudget
from tokenbudget import TokenTracker
from tokenbudget._adapters import (
    FamilyConflict,
    _sdks,
    choose_family,
    google_transport_kind,
    installed_version,
    parse_version,
)
from tokenbudget.testing import FakeLLM

BOTH = ["httpx2", "httpx"]


@pytest.mark.parametrize(
    ("installed", "chosen"),
    [
        ({}, "httpx2"),
        ({"openai": (3, 60, 0), "anthropic": (2, 17, 0), "google-genai": (3, 6, 1)}, "httpx2"),
        ({"openai": (1, 99, 9)}, "httpx"),
        ({"openai": (2, 46, 0)}, "httpx"),
        ({"openai": (2, 47, 0)}, "httpx2"),
        ({"anthropic": (0, 64, 0)}, "httpx"),
        ({"anthropic": (1, 0, 0)}, "httpx2"),
        ({"google-genai": (1, 30, 0)}, "httpx2"),  # takes no http client: no say
        ({"google-genai": (1, 46, 0)}, "httpx"),
        ({"google-genai": (2, 17, 0)}, "httpx"),
        ({"google-genai": (2, 18, 0)}, "httpx2"),
        ({"openai": (1, 40, 0), "anthropic": (0, 40, 0), "google-genai": (1, 0, 0)}, "httpx"),
        ({"openai": (3, 0, 0), "anthropic": (0, 64, 0)}, "httpx"),
        ({"openai": None, "anthropic": (2, 17, 0)}, "httpx2"),  # None: not installed
    ],
)
def test_the_first_family_every_installed_sdk_accepts(
    installed: dict[str, tuple[int, ...] | None], chosen: str
) -> None:
    assert choose_family(BOTH, installed) == chosen


def test_sdks_that_disagree_are_named_with_the_way_out() -> None:
    with pytest.raises(FamilyConflict) as raised:
        choose_family(BOTH, {"openai": (1, 99, 9), "anthropic": (2, 17, 0)})
    message = str(raised.value)
    assert "openai 1.99.9 accepts only httpx;" in message
    assert "anthropic 2.17.0 accepts only httpx2" in message
    assert 'family="httpx"' in message and 'family="httpx2"' in message


def test_a_family_that_is_not_installed_is_never_chosen() -> None:
    assert choose_family(["httpx"], {"openai": (3, 60, 0)}) == "httpx"
    with pytest.raises(FamilyConflict, match="installed families: httpx"):
        choose_family(["httpx"], {"anthropic": (2, 17, 0)})


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, tuple[int, ...] | None]]:
    """Installed SDK releases as the test says (others: not installed)."""
    versions: dict[str, tuple[int, ...] | None] = {}
    monkeypatch.setattr(_sdks, "installed_version", lambda name: versions.get(name))
    yield versions


def test_new_clients_follow_the_installed_sdks(installed: dict[str, tuple[int, ...]]) -> None:
    tracker = TokenTracker()
    installed["openai"] = (1, 99, 9)
    assert type(tracker.httpx_client()) is httpx.Client
    assert type(tracker.async_httpx_client()) is httpx.AsyncClient
    assert FakeLLM().family == "httpx"
    installed["openai"] = (3, 60, 0)
    assert type(tracker.httpx_client()) is httpx2.Client
    assert type(tracker.async_httpx_client()) is httpx2.AsyncClient


def test_a_conflict_is_raised_where_the_client_is_asked_for(
    installed: dict[str, tuple[int, ...]],
) -> None:
    installed.update({"openai": (1, 99, 9), "anthropic": (2, 17, 0)})
    tracker = TokenTracker()
    with pytest.raises(tokenbudget.FamilyConflict, match=r'family="httpx"'):
        tracker.httpx_client()
    with pytest.raises(FamilyConflict):
        tracker.async_httpx_client()
    assert type(tracker.httpx_client(family="httpx")) is httpx.Client
    assert type(tracker.async_httpx_client(family="httpx2")) is httpx2.AsyncClient
    inner = httpx.HTTPTransport()
    assert type(tracker.httpx_client(transport=inner)) is httpx.Client, "follows the transport"


def test_installed_versions_come_from_the_package_metadata() -> None:
    assert installed_version("httpx") == parse_version(metadata.version("httpx"))
    assert installed_version("no-such-distribution-tokenbudget") is None
    assert parse_version("2.0.0rc1") == (2, 0, 0)
    assert parse_version("1.16.1+local") == (1, 16, 1)
    with pytest.raises(ValueError, match="not a version"):
        parse_version("dev")


@pytest.mark.parametrize(
    ("version", "kind"),
    [
        ("1.0.0", "requests"),
        ("1.5.0", "requests"),
        ("1.6.0", "httpx-per-call"),
        ("1.7.0", "httpx"),
        ("1.30.0", "httpx"),
        ((3, 6, 1), "httpx"),
    ],
)
def test_how_each_google_genai_release_sends(version: str | tuple[int, ...], kind: str) -> None:
    assert google_transport_kind(version) == kind
