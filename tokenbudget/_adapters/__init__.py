"""The adapters: the only code that knows httpx and httpx2.

Tracking transports (sync and async, for each installed family) feed the
core's ``Exchange`` with the bytes of each request and response, and the
instrumenting helpers put them under httpx clients: new ones, existing ones
(in place, or a tracked copy), or beneath trackers already there.
"""

from __future__ import annotations

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
from ._transport import CallSource

__all__ = [
    "FAMILY_NAMES",
    "CallSource",
    "Family",
    "available_families",
    "build_family",
    "building_own_client",
    "default_family",
    "family_of",
    "get_family",
    "instrument_beneath",
    "instrument_client",
    "is_instrumented",
    "patch_suppressed",
    "tracked_copy",
    "wrap_transport",
]
