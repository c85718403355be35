"""How a call to a host that is not its provider's own API is marked, and its model labelled.

A gateway, a proxy or a local server speaks a known API (OpenAI, Anthropic,
Gemini) without saying whose model it serves. The providers that recognise such
hosts (:mod:`._anyhost`, :class:`~.compatible.OpenAICompatibleProvider`) mark
the endpoint with :func:`mark_via`: ``via`` names the host, so that the tracker
prices the call by its model name and the record keeps the host. Until then the
endpoint is recorded as ``local`` on loopback (free) and as
``"{api}-compatible"`` elsewhere, its model labelled ``"{host}/{model}"`` so
that unknown models at different hosts stay apart.
"""

from __future__ import annotations

from .._core import Endpoint, Observation, RequestView, UsageReader

__all__ = ["Labelled", "is_loopback", "mark_via"]

_LOOPBACK = ("localhost", "::1", "[::1]", "0.0.0.0")


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``127.x.x.x``, ``::1`` and ``0.0.0.0``."""
    return host in _LOOPBACK or host.startswith("127.") or host.endswith(".localhost")


def mark_via(
    endpoint: Endpoint, request: RequestView, *, local_name: str, assumed: bool
) -> Endpoint:
    """``endpoint`` marked as answered by ``request``'s host, which is not its provider's API.

    ``assumed`` is True when tokenbudget, not the user, decided what the host
    is: then ``via`` is set (the tracker prices the call by its model name), a
    loopback host is recorded as ``local_name`` and any other host labels the
    model. A host the user mapped (``assumed=False``) keeps the provider's name.
    """
    if not assumed:
        return endpoint
    endpoint.via = request.host_port
    if is_loopback(request.host):
        endpoint.provider = local_name
    else:
        endpoint.model_label = request.host_port
    return endpoint


class Labelled(UsageReader):
    """A reader mixin: the observed model becomes ``"{endpoint.model_label}/{model}"``.

    Put it first among the bases (``class R(Labelled, AnthropicReader)``). The
    label is read when the answer ends, so a tracker that found the model's
    provider can still drop it (``endpoint.model_label = None``).
    """

    def result(self) -> Observation:
        observation = super().result()
        label = self.endpoint.model_label
        model = observation.model or self.endpoint.request_model
        if label and model is not None and not model.startswith(label + "/"):
            observation.model = f"{label}/{model}"
        return observation
