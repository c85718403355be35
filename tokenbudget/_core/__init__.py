"""The sans-IO core: one call's life as plain Python over bytes.

What a request is (:class:`RequestView`), what a provider says it is
(:class:`Endpoint`) and what its answer says (:class:`Observation`, read by a
:class:`UsageReader`); the SSE and content decoders that turn raw bytes into
what readers read; and the :class:`Exchange` that drives one call from its
request to its record, asking the rest of the library for what it needs
through :class:`Ports`. Nothing here imports an HTTP library or the tracker:
the adapters feed it bytes, the tracker gives it ports, and a unit test can do
both with fakes.
"""

from __future__ import annotations

from ._decoders import (
    IDENTITY,
    BodyDecodingError,
    ContentDecoder,
    UnsupportedEncoding,
    decoder_for,
)
from ._endpoint import (
    DataFilter,
    Endpoint,
    EndpointHandler,
    EventFilter,
    Observation,
    OutputText,
    UsageReader,
)
from ._exchange import SENDING, Exchange
from ._fork import after_fork_in_child, around_fork, renew_after_fork
from ._headers import header_bytes, learn_header_layout
from ._json import loads
from ._log import logger, warn_once
from ._observer import Mode
from ._ports import CallGuard, Ports, Pricer, ResponseCache, StoredResponse
from ._private import FILE_MODE, FOLDER_MODE, make_private, private_file, private_folder
from ._record import INVALID_USAGE, REASONING_NOT_REPORTED, describe
from ._replay import BODY_HEADERS, Replay, replay_headers, replay_pieces, start_replay
from ._request import RequestView
from ._scrub import CREDENTIAL_WORDS, REDACTED, scrub_secrets
from ._sse import ServerSentEvent, SSEDecoder, SSEError, split_events

__all__ = [
    "BODY_HEADERS",
    "CREDENTIAL_WORDS",
    "FILE_MODE",
    "FOLDER_MODE",
    "IDENTITY",
    "INVALID_USAGE",
    "REASONING_NOT_REPORTED",
    "REDACTED",
    "SENDING",
    "BodyDecodingError",
    "CallGuard",
    "ContentDecoder",
    "DataFilter",
    "Endpoint",
    "EndpointHandler",
    "EventFilter",
    "Exchange",
    "Mode",
    "Observation",
    "OutputText",
    "Ports",
    "Pricer",
    "Replay",
    "RequestView",
    "ResponseCache",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
    "StoredResponse",
    "UnsupportedEncoding",
    "UsageReader",
    "after_fork_in_child",
    "around_fork",
    "renew_after_fork",
    "replay_headers",
    "replay_pieces",
    "decoder_for",
    "describe",
    "header_bytes",
    "learn_header_layout",
    "loads",
    "make_private",
    "logger",
    "private_file",
    "private_folder",
    "scrub_secrets",
    "split_events",
    "start_replay",
    "warn_once",
]
