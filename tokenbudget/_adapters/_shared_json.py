"""One parse of a JSON answer for both tokenbudget and the caller.

An SDK reads a whole JSON answer with ``response.json()``, which parses the
body again after tokenbudget parsed it to read its usage: the costliest step
of a tracked call, done twice. When tokenbudget has parsed the body (the
exchange's :meth:`~tokenbudget._core.ResponseObserver.take_shared_json`), the
tracked stream gives its response a :class:`SharedJson` as an instance-level
``json``: its first call without arguments returns that document, which
nothing else holds, so the caller gets a fresh parse as ever; any other call
parses the body again, as the response's own ``json()`` does. A memory cache hit
hands over a fresh copy of the document read when its answer was stored
(:class:`StoredJson`), and a hit read as before shares its reading like a call.

Only for families whose ``Response.json`` is ``json.loads(self.content, **kwargs)``
(:func:`json_reads_content`: httpx since 0.25, httpx2). httpx before 0.25 decoded the
text by its charset first, which a document parsed from the bytes could contradict;
tokenbudget needs httpx 0.27 or later, so the probe guards a family that would
change it again.
"""

from __future__ import annotations

import json
import marshal
from typing import Any

__all__ = ["SharedJson", "StoredJson", "json_reads_content"]


class SharedJson:
    """A response's ``json``: the document tokenbudget parsed, once, then the body parsed anew.

    ``body`` is the decoded body the document was parsed from, which is the
    response's ``content``. Picklable (a document and bytes), like the response.
    """

    __slots__ = ("body", "document")

    def __init__(self, document: Any, body: bytes) -> None:
        self.document: Any = document
        self.body = body

    def __call__(self, **kwargs: Any) -> Any:
        document = self.document
        if document is None or kwargs:
            return json.loads(self.body, **kwargs)
        self.document = None  # handed over: a second call gets a parse of its own
        return document

    def __getstate__(self) -> tuple[Any, bytes]:
        return self.document, self.body

    def __setstate__(self, state: tuple[Any, bytes]) -> None:
        self.document, self.body = state


class StoredJson(SharedJson):
    """A cache hit's ``json``: the stored answer's document, kept marshalled when it was
    stored (``Replay.document``), loaded afresh for the first call without arguments;
    any other call parses the body, as the response's own ``json()`` does."""

    __slots__ = ()

    def __call__(self, **kwargs: Any) -> Any:
        blob = self.document
        if blob is None or kwargs:
            return json.loads(self.body, **kwargs)
        self.document = None
        return marshal.loads(blob)


def json_reads_content(module: Any) -> bool:
    """True when ``module``'s (httpx or httpx2) ``Response.json(**kwargs)`` is
    ``json.loads(response.content, **kwargs)``: a UTF-8 body under a content-type
    naming another charset is parsed from its bytes, not from its text."""
    body = '{"a": "\u00e9"}'.encode()
    try:
        response = module.Response(
            200, headers={"content-type": "application/json; charset=latin-1"}, content=body
        )
        return bool(response.json() == json.loads(body))
    except Exception:
        return False
