"""Which requests to unknown hosts are recognised, by path, and which are never read.

The fallback decides from the method, the path and the content type before it
reads a body; only a path distinctive of an LLM API may make it read one.
"""

from __future__ import annotations

import json

import pytest

from tokenbudget.providers import RequestView, default_registry

JSON_TYPE = {"content-type": "application/json"}


def _never_read() -> bytes:
    raise AssertionError("the body of this request was read")


def _view(
    path: str, body: object = None, *, host: str = "llm-gw.internal", **kw: object
) -> RequestView:
    content = b"" if body is None else json.dumps(body).encode()
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    return RequestView(
        "POST",
        host,
        path,
        query=query,
        headers=kw.pop("headers", JSON_TYPE),  # type: ignore[arg-type]
        body=content,
        **kw,  # type: ignore[arg-type]
    )


CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
MESSAGES = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": "Hi"}],
}


@pytest.mark.parametrize(
    ("path", "body", "kind", "model", "stream"),
    [
        ("/v1/chat/completions", CHAT, "chat", "gpt-4o", False),
        ("/openai/v1/chat/completions", {**CHAT, "stream": True}, "chat", "gpt-4o", True),
        ("/openai/v1/responses", {"model": "gpt-4o", "input": "Hi"}, "responses", "gpt-4o", False),
        (
            "/v1/embeddings",
            {"model": "text-embedding-3-small", "input": "x"},
            "embeddings",
            "text-embedding-3-small",
            False,
        ),
        (
            "/v1/completions",
            {"model": "gpt-3.5-turbo-instruct", "prompt": "x"},
            "completions",
            "gpt-3.5-turbo-instruct",
            False,
        ),
        ("/v1/messages", MESSAGES, "messages", "claude-sonnet-4-5", False),
        (
            "/anthropic/v1/messages",
            {**MESSAGES, "stream": True},
            "messages",
            "claude-sonnet-4-5",
            True,
        ),
        ("/v1/messages/count_tokens", MESSAGES, "count_tokens", "claude-sonnet-4-5", False),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            None,
            "generate_content",
            "gemini-2.5-flash",
            False,
        ),
        (
            "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            None,
            "generate_content",
            "gemini-2.5-flash",
            True,
        ),
        (
            "/v1beta/models/gemini-embedding-001:embedContent",
            None,
            "embeddings",
            "gemini-embedding-001",
            False,
        ),
        (
            "/v1beta/models/gemini-embedding-001:batchEmbedContents",
            None,
            "embeddings",
            "gemini-embedding-001",
            False,
        ),
        (
            "/v1beta/models/gemini-2.5-flash:countTokens",
            None,
            "count_tokens",
            "gemini-2.5-flash",
            False,
        ),
        (
            "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent",
            None,
            "generate_content",
            "gemini-2.5-pro",
            False,
        ),
    ],
)
@pytest.mark.parametrize("host", ["llm-gw.internal", "127.0.0.1"])
def test_each_api_is_recognised_by_its_path_on_any_host(
    host: str, path: str, body: object, kind: str, model: str, stream: bool
) -> None:
    endpoint = default_registry.match(_view(path, body, host=host, port=4000))
    assert endpoint is not None
    assert (endpoint.kind, endpoint.request_model, endpoint.stream) == (kind, model, stream)
    assert endpoint.billable is (kind != "count_tokens")
    assert endpoint.via == f"{host}:4000"


def test_a_gemini_path_is_recognised_without_reading_the_body() -> None:
    view = RequestView(
        "POST",
        "llm-gw.internal",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        headers=JSON_TYPE,
        load_body=_never_read,
    )
    endpoint = default_registry.match(view)
    assert endpoint is not None and endpoint.request_model == "gemini-2.5-flash"


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/api/messages", "application/json"),
        ("POST", "/v1/messages/search", "application/json"),
        ("GET", "/v1/messages", "application/json"),
        ("POST", "/v1/messages", "text/plain"),
        ("POST", "/v1/messages", "multipart/form-data; boundary=x"),
        ("POST", "/v1beta/models/gemini-2.5-flash", "application/json"),
        ("POST", "/v1beta/models/gemini-2.5-flash:unknownMethod", "application/json"),
        ("GET", "/v1beta/models/gemini-2.5-flash:generateContent", "application/json"),
        ("POST", "/v1/models", "application/json"),
    ],
)
def test_other_requests_to_unknown_hosts_are_never_read(
    method: str, path: str, content_type: str
) -> None:
    headers = {"content-type": content_type}
    for host in ("api.example.org", "localhost"):
        view = RequestView(method, host, path, headers=headers, load_body=_never_read)
        assert default_registry.match(view) is None


@pytest.mark.parametrize(
    "body",
    [
        {"to": "+15551234567", "text": "hello"},  # a messaging API's /v1/messages
        {"model": "x", "messages": "not a list"},
        {"messages": [{"role": "user", "content": "no model"}]},
        ["not", "an", "object"],
    ],
)
def test_a_messages_path_whose_body_is_not_anthropic_is_passed_through(body: object) -> None:
    assert default_registry.match(_view("/v1/messages", body)) is None


def test_known_hosts_are_not_marked() -> None:
    view = _view("/v1/chat/completions", CHAT, host="api.openai.com")
    endpoint = default_registry.match(view)
    assert endpoint is not None and endpoint.provider == "openai" and endpoint.via is None
