"""The ways a tracker gets under a client: new httpx clients, bare transports, SDK copies.

``TokenTracker`` inherits these methods. None of them wraps an SDK object: an
SDK gets a tracked httpx client, or a copy of itself built on one.
"""

from __future__ import annotations

from typing import Any, TypeVar

from .._adapters import (
    CallSource,
    building_own_client,
    family_of,
    get_family,
    instrument_client,
    tracked_copy,
    wrap_transport,
)
from ._google import wrap_google_client

__all__ = ["TrackerClients"]

C = TypeVar("C")


class TrackerClients:
    """Client factories, transports and SDK wrappers of ``TokenTracker``."""

    def _source(self) -> CallSource:
        source: CallSource = self  # type: ignore[assignment]  # TokenTracker has begin()
        return source

    def httpx_client(self, family: str | None = None, **kwargs: Any) -> Any:
        """A ready ``httpx2.Client`` (or ``httpx.Client``) whose calls are tracked.

        ``family`` is ``"httpx2"`` or ``"httpx"``; by default, the one every
        installed SDK accepts as its http client (httpx2 unless one takes only
        httpx), or ``FamilyConflict`` when the installed SDKs disagree.
        ``transport=X`` makes X the inner transport; other keywords go to the client.
        """
        return self._client(family, is_async=False, kwargs=kwargs)

    def async_httpx_client(self, family: str | None = None, **kwargs: Any) -> Any:
        """Async twin of :meth:`httpx_client`."""
        return self._client(family, is_async=True, kwargs=kwargs)

    def _client(self, family: str | None, *, is_async: bool, kwargs: dict[str, Any]) -> Any:
        inner = kwargs.get("transport")
        chosen = get_family(family) if family or inner is None else family_of(inner)
        if inner is not None and family_of(inner) is not chosen:
            other = family_of(inner).name
            raise ValueError(
                f"transport {type(inner).__name__} is an {other} transport; it cannot go "
                f"under an {chosen.name} client (pass family={other!r})"
            )
        module = chosen.module
        cls = module.AsyncClient if is_async else module.Client
        with building_own_client():
            client = cls(**kwargs)
        return instrument_client(client, self._source())

    def transport(self, inner: Any | None = None, family: str | None = None) -> Any:
        """A bare sync tracking transport around ``inner`` (default: a new HTTPTransport)."""
        if inner is not None:
            return wrap_transport(inner, self._source(), is_async=False)
        return get_family(family).Transport(self)

    def async_transport(self, inner: Any | None = None, family: str | None = None) -> Any:
        """A bare async tracking transport around ``inner`` (default: a new AsyncHTTPTransport)."""
        if inner is not None:
            return wrap_transport(inner, self._source(), is_async=True)
        return get_family(family).AsyncTransport(self)

    def instrument(self, http_client: C) -> C:
        """Track an existing httpx client in place (its transport and mounts)."""
        return instrument_client(http_client, self._source())

    def wrap_openai(self, client: C) -> C:
        """A copy of an ``openai.OpenAI``/``AsyncOpenAI`` client whose calls are tracked.

        The copy keeps the client's own http client settings and transport
        underneath the tracking; the original client is left untracked.
        """
        return self._wrap_stainless(client)

    def wrap_anthropic(self, client: C) -> C:
        """A copy of an ``anthropic.Anthropic`` (or async) client whose calls are tracked."""
        return self._wrap_stainless(client)

    def wrap_google(self, client: C) -> C:
        """A copy of a ``google.genai.Client`` whose calls (sync and ``.aio``) are tracked.

        Works on every google-genai release that sends through httpx (1.6 on).
        The copy is built from the client's own settings and http clients; its
        async calls go through its tracked httpx client even where the SDK
        would use aiohttp. The original client is left untracked.
        """
        return wrap_google_client(client, self._source())

    def _wrap_stainless(self, client: C) -> C:
        sdk_client: Any = client
        http_client = getattr(sdk_client, "_client", None)
        if http_client is None or not hasattr(sdk_client, "with_options"):
            raise TypeError(
                f"expected an SDK client with .with_options(), got {type(client).__name__}"
            )
        copy: C = sdk_client.with_options(http_client=tracked_copy(http_client, self._source()))
        return copy
