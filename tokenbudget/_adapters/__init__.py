"""The adapters: the only code that knows httpx and httpx2.

Tracking transports (sync and async, for each installed family) feed the
core's ``Exchange`` with the bytes of each request and response, and the
instrumenting helpers put them under httpx clients: new ones, existing ones
(in place, or a tracked copy), or beneath trackers already there. The
``requests`` adapter does the same for ``requests`` sessions (google-genai
1.0-1.5 send through them); ``requests`` is imported only when it is used.
"""

from __future__ import annotations

from ._early import arm_early_refusal
from ._families import (
    FAMILY_NAMES,
    Family,
    available_families,
    build_family,
    default_family,
    family_of,
    get_family,
)
from ._instrument import (
    building_own_client,
    instrument_beneath,
    instrument_client,
    is_instrumented,
    patch_suppressed,
    tracked_copy,
    wrap_transport,
)
from ._requests_patch import requests_adapter, track_requests_sessions, untrack_requests_sessions
from ._sdks import (
    FamilyConflict,
    accepted_families,
    choose_family,
    google_transport_kind,
    installed_version,
    parse_version,
)
from ._transport import CallSource

__all__ = [
    "FAMILY_NAMES",
    "CallSource",
    "Family",
    "FamilyConflict",
    "accepted_families",
    "arm_early_refusal",
    "available_families",
    "build_family",
    "building_own_client",
    "choose_family",
    "default_family",
    "family_of",
    "get_family",
    "google_transport_kind",
    "installed_version",
    "instrument_beneath",
    "instrument_client",
    "is_instrumented",
    "parse_version",
    "patch_suppressed",
    "requests_adapter",
    "track_requests_sessions",
    "tracked_copy",
    "untrack_requests_sessions",
    "wrap_transport",
]
