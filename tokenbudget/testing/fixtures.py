"""The ``fake_llm`` pytest fixture (pytest is optional: without it this is a plain function).

The fixture gives each test a fresh :class:`~tokenbudget.testing.FakeLLM`. A
``fake_llm`` marker configures it with the keywords of ``FakeLLM(...)``::

    @pytest.mark.fake_llm(replies=["Paris."])
    def test_capital(fake_llm):
        tracker = TokenTracker()
        http_client = tracker.httpx_client(transport=fake_llm)
        client = openai.OpenAI(api_key="sk-fake", http_client=http_client)
        ...

The tokenbudget pytest plugin (``tokenbudget.pytest_plugin``, loaded when
tokenbudget is installed) provides the fixture and registers the marker; with
the plugin off, import the fixture into a ``conftest.py``.
"""

from __future__ import annotations

from typing import Any

from ._fake import FakeLLM

__all__ = ["fake_llm"]

_MARKER = "fake_llm"


def _make(node: Any) -> FakeLLM:
    marker = node.get_closest_marker(_MARKER) if node is not None else None
    if marker is None:
        return FakeLLM()
    return FakeLLM(*marker.args, **marker.kwargs)


try:
    import pytest
except ImportError:  # pragma: no cover - exercised only without pytest

    def fake_llm(request: Any = None) -> FakeLLM:
        """A fresh :class:`FakeLLM` (a pytest fixture when pytest is installed)."""
        return _make(getattr(request, "node", None))

else:

    @pytest.fixture
    def fake_llm(request: pytest.FixtureRequest) -> FakeLLM:
        """A fresh :class:`FakeLLM` per test; ``@pytest.mark.fake_llm(...)`` configures it."""
        return _make(request.node)
