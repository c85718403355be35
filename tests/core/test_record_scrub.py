"""Error texts without secrets: a generated secret never survives scrubbing.

The record's ``error`` is scrubbed by ``_core._scrub.scrub_secrets`` (tested
alone here; ``tests/providers/test_error_secrets.py`` goes through real SDKs
to the store and the exports).
"""

from __future__ import annotations

import string

import hypothesis.strategies as st
import pytest
from hypothesis import assume, given

from tokenbudget._core import scrub_secrets

# -- the scrubber alone ---------------------------------------------------------------------------

_TOKEN = string.ascii_letters + string.digits
_secret_text = st.text(_TOKEN, min_size=12, max_size=40)
_words = st.text(string.ascii_letters + " :,.()", max_size=30)
_TEMPLATES = [
    "ConnectError: failed to reach https://api.example.com/v1/x?key={s}&alt=sse",
    "https://host.example/path?api_key={s}",
    "request to http://user:{s}@proxy.internal:8080/v1 failed",
    "Authorization: Bearer {s}",
    "authorization: Basic {s}",
    "sent headers {{'x-api-key': '{s}'}}",
    '{{"error": {{"api_key": "{s}"}}}}',
    "token={s}; path=/",
    "secret_token={s}",
    "client_secret = {s}",
    "Incorrect API key provided: sk-{s}",
    "key AIza{s}{s} is invalid",
    "Cookie: session={s}",
    "password={s}",
]


@given(
    secret=_secret_text,
    template=st.sampled_from(_TEMPLATES),
    before=_words,
    after=_words,
)
def test_a_generated_secret_never_survives(
    secret: str, template: str, before: str, after: str
) -> None:
    text = before + template.format(s=secret) + " " + after
    assume(secret not in before + template.format(s="") + after)
    scrubbed = scrub_secrets(text)
    assert secret not in scrubbed
    assert scrub_secrets(scrubbed) == scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "HTTP 429",
        "TokenLimitReached: over the limit",
        "KeyError: 'model'",
        "the stream ended before the provider's end marker",
        "overloaded_error: Overloaded",
        "ReadTimeout: timed out",
    ],
)
def test_plain_error_texts_are_kept(text: str) -> None:
    assert scrub_secrets(text) == text
