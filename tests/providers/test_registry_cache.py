"""Host lookups are cached in every registry, layered ones included, and a registration
anywhere (in the registry or its parent) is seen by the next lookup."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given, settings

from tokenbudget._core import RequestView
from tokenbudget.providers import ProviderRegistry
from tokenbudget.providers.openai import OpenAIProvider

_HOSTS = st.sampled_from(["a.example", "b.example", "x.a.example", "c.example"])
_PORTS = st.sampled_from([None, 8000])


def _uncached(registry: ProviderRegistry, host: str, port: int | None) -> object:
    """What the lookup gives with no cache at all: own registrations first, then the parent's."""
    own = registry._own(host, port)
    if own is None and registry._parent is not None:
        return _uncached(registry._parent, host, port)
    return own


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["lookup", "match", "parent", "child", "suffix"]),
            _HOSTS,
            _PORTS,
        ),
        max_size=25,
    )
)
def test_cached_lookups_follow_every_registration(
    steps: list[tuple[str, str, int | None]],
) -> None:
    parent = ProviderRegistry()
    child = ProviderRegistry(parent=parent)
    providers = iter([OpenAIProvider(f"p{index}") for index in range(len(steps) + 1)])
    for action, host, port in steps:
        name = host if port is None else f"{host}:{port}"
        if action == "parent":
            parent.register(next(providers), hosts=[name])
        elif action == "child":
            child.register(next(providers), hosts=[name])
        elif action == "suffix":
            parent.register(next(providers), host_suffixes=["." + host.split(".", 1)[-1]])
        elif action == "match":
            view = RequestView("POST", host, "/v1/chat/completions", port, body=b'{"model":"m"}')
            endpoint = child.match(view)
            expected = _uncached(child, host, port)
            assert (endpoint.provider if endpoint else None) == getattr(expected, "name", None)
        for registry in (child, parent):
            assert registry.for_host(host, port) is _uncached(registry, host, port)
