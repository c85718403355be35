"""A small support-ticket pipeline: summarise a ticket, then route it to a team.

Two calls to a small model per ticket. ``test_pipeline.py`` holds it to that:
it asserts how many calls each step makes, to which model, and what they cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import openai

MODEL = "gpt-4o-mini"
TEAMS = ("billing", "bugs", "sales", "other")
ROUTE_PROMPT = f"Answer with one word, the team for this ticket: {', '.join(TEAMS)}."


@dataclass(frozen=True)
class Routed:
    """A ticket's summary and the team it goes to."""

    summary: str
    team: str


def summarise(client: openai.OpenAI, ticket: str) -> str:
    """One sentence saying what the customer wants."""
    reply = client.chat.completions.create(
        model=MODEL,
        max_tokens=80,
        messages=[
            {"role": "system", "content": "Summarise the support ticket in one sentence."},
            {"role": "user", "content": ticket},
        ],
    )
    return reply.choices[0].message.content or ""


def route(client: openai.OpenAI, summary: str) -> str:
    """The team for a summarised ticket (``other`` when the model answers anything else)."""
    reply = client.chat.completions.create(
        model=MODEL,
        max_tokens=5,
        messages=[
            {"role": "system", "content": ROUTE_PROMPT},
            {"role": "user", "content": summary},
        ],
    )
    answer = (reply.choices[0].message.content or "").strip().strip(".").lower()
    return answer if answer in TEAMS else "other"


def triage(client: openai.OpenAI, ticket: str) -> Routed:
    """Summarise, then route: two calls."""
    summary = summarise(client, ticket)
    return Routed(summary, route(client, summary))
