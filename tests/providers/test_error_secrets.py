"""A record's error text keeps no secret: not in the record, the SQLite store, or an export.

Error texts are other libraries' messages (an httpx error naming the URL with
its ``?key=...``, the headers it sent) or the provider's; tokenbudget scrubs
them before a record keeps them. Through the real openai and google-genai
clients to a SQLite store and the CSV and JSON exports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from google import genai

from tokenbudget import TokenTracker
from tokenbudget.reports import export_csv, export_json

from ..support import StubBook, mock_transport

REDACTED = "[redacted]"
GOOGLE_KEY = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
OPENAI_KEY = "sk-proj-Zx81kQm2vB7nT4cR9wLp0aEeS3dF6gH"


def _unreachable(family: str) -> Any:
    """A transport failing the way httpx does when the host cannot be reached, URL in the text."""
    error = httpx.ConnectError if family == "httpx" else __import__("httpx2").ConnectError

    def handler(request: Any) -> Any:
        headers = dict(request.headers)
        shown = ", ".join(f"{k}: {v}" for k, v in headers.items() if "key" in k or "auth" in k)
        raise error(f"All connection attempts failed for {request.url} ({shown})")

    return handler


def _files_hold_no_secret(tracker: TokenTracker, tmp_path: Path, *secrets: str) -> None:
    tracker.flush()
    csv_file, json_file = tmp_path / "usage.csv", tmp_path / "usage.json"
    export_csv(tracker, csv_file)
    export_json(tracker, json_file)
    db = (tmp_path / "usage.db").read_bytes()
    for secret in secrets:
        assert secret.encode() not in db
        assert secret not in csv_file.read_text()
        assert secret not in json_file.read_text()
    stored = json.loads(json_file.read_text())
    assert REDACTED in json.dumps(stored)


def test_a_url_with_a_key_never_reaches_the_store(family: str, tmp_path: Path) -> None:
    tracker = TokenTracker(prices=StubBook(), store=str(tmp_path / "usage.db"))
    transport = mock_transport(family, _unreachable(family))
    client = openai.OpenAI(
        api_key=OPENAI_KEY,
        http_client=tracker.httpx_client(family=family, transport=transport),
        default_query={"key": GOOGLE_KEY, "api-version": "2024-10-21"},
        max_retries=0,
    )

    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

    record = tracker.records[-1]
    assert record.error is not None and record.error.startswith("ConnectError: All connection")
    assert "https://api.openai.com/v1/chat/completions?[redacted] (" in record.error
    assert GOOGLE_KEY not in record.error and OPENAI_KEY not in record.error
    _files_hold_no_secret(tracker, tmp_path, GOOGLE_KEY, OPENAI_KEY)
    tracker.close()


def test_a_gemini_key_never_reaches_the_store(family: str, tmp_path: Path) -> None:
    tracker = TokenTracker(prices=StubBook(), store=str(tmp_path / "usage.db"))
    transport = mock_transport(family, _unreachable(family))
    http_client = tracker.httpx_client(family=family, transport=transport)
    options = genai.types.HttpOptions(httpx_client=http_client, retry_options=None)
    client = genai.Client(api_key=GOOGLE_KEY, http_options=options)

    with pytest.raises(Exception, match="connection attempts failed"):
        client.models.generate_content(model="gemini-2.5-flash", contents="Hi")

    record = tracker.records[-1]
    assert record.provider == "google" and record.error is not None
    assert "x-goog-api-key: [redacted]" in record.error
    _files_hold_no_secret(tracker, tmp_path, GOOGLE_KEY)
    tracker.close()
