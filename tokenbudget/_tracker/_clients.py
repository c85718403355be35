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

__all__ = ["TrackerClients"]

C = TypeVar("C")


class TrackerClients:
    """Client factories, transports and SDK wrappers of ``TokenTracker``."""

    def _source(self) -> CallSource:
        source: CallSource = self  # type: ignore[assignment]  # TokenTracker has begin()
        return source

    def httpx_client(self, family: str | None = None, **kwargs: Any) -> Any:
        """A ready ``httpx2.Client`` (or ``httpx.Client``) whose calls are tracked.

        ``family`` is ``"httpx2"`` (default when installed) or ``"httpx"``.
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

        The copy is built from the client's own settings, with tracked copies of
        its http clients given as ``http_options.httpx_client`` and
        ``httpx_async_client``; the original client is left untracked.
        """
        sdk: Any = client
        api = getattr(sdk, "_api_client", None)
        if api is None or not hasattr(api, "_http_options"):
            raise TypeError(f"expected a google.genai.Client, got {type(client).__name__}")
        options = api._http_options.model_copy()
        options.httpx_client = tracked_copy(api._httpx_client, self._source())
        if getattr(api, "_async_httpx_client", None) is not None:
            options.httpx_async_client = tracked_copy(api._async_httpx_client, self._source())
        client_class: Any = type(client)
        copy: C = client_class(
            vertexai=api.vertexai,
            api_key=api.api_key,
            credentials=api._credentials,
            project=api.project,
            location=api.location,
            http_options=options,
            debug_config=getattr(sdk, "_debug_config", None),
        )
        return copy

    def _wrap_stainless(self, client: C) -> C:
        sdk_client: Any = client
        http_client = getattr(sdk_client, "_client", None)
        if http_client is None or not hasattr(sdk_client, "with_options"):
            raise TypeError(
                f"expected an SDK client with .with_options(), got {type(client).__name__}"
            )
        copy: C = sdk_client.with_options(http_client=tracked_copy(http_client, self._source()))
        return copy
