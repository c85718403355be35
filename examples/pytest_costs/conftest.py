"""The OpenAI client of the tests: a fake provider offline, the real API with PIPELINE_LIVE=1.

The client is built once, when this file is imported, the way an application
builds its client at import time. The tokenbudget plugin tracks it anyway and
gives each test exactly the calls it made.
"""

from __future__ import annotations

import os

import httpx2
import openai
import pytest
from pipeline import ROUTE_PROMPT

from tokenbudget.testing import FakeLLM, FakeRequest


def fake_answer(request: FakeRequest) -> str:
    """What the fake model says: a team when asked to route, else a one-line summary."""
    ticket = request.last_user_text
    if request.messages and request.messages[0].text == ROUTE_PROMPT:
        return "billing" if "charge" in ticket or "invoice" in ticket else "bugs"
    return "The customer writes: " + " ".join(ticket.split()[:12])


if os.environ.get("PIPELINE_LIVE"):
    # The real API (OPENAI_API_KEY from the environment; any value when replaying).
    CLIENT = openai.OpenAI()
else:
    transport = FakeLLM(reply=fake_answer)
    CLIENT = openai.OpenAI(api_key="sk-fake", http_client=httpx2.Client(transport=transport))


@pytest.fixture
def client() -> openai.OpenAI:
    """The OpenAI client the pipeline runs on."""
    return CLIENT
