"""Provider names: their aliases, and the order providers are searched for a model.

Lookups are per provider, because one model name can cost differently at two
providers. :func:`search_order` gives the providers whose prices a lookup tries,
in order:

- ``azure`` falls back to ``openai``'s list prices, ``vertex`` to ``google``
  then ``anthropic``, ``openrouter`` (which passes its makers' prices through)
  to the maker named by the model's prefix, then every maker.
- With no provider, the maker named by a prefix is tried first, then makers
  before hosts, so ``gpt-4o`` resolves to OpenAI.
- Unknown hosts (``openai-compatible``, local servers) only see
  ``register_model`` entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._names import normalize, prefix_provider

__all__ = [
    "FREE_PROVIDERS",
    "GLOBAL_PROVIDERS",
    "HOSTS",
    "MAKERS",
    "canonical_provider",
    "search_order",
    "sort_providers",
]

#: Providers that make models, searched first when no provider is given.
MAKERS = ("openai", "anthropic", "google", "xai", "deepseek", "mistral")
#: Hosts of other makers' models, searched after the makers.
HOSTS = ("groq", "together", "fireworks", "perplexity", "openrouter")
#: Providers whose calls cost nothing unless a price was registered: local servers.
FREE_PROVIDERS = frozenset({"local"})
#: Provider names that mean "whatever provider serves this model".
GLOBAL_PROVIDERS = frozenset({"", "custom", "*"})

_FALLBACKS: dict[str, tuple[str, ...]] = {
    "azure": ("openai",),
    "vertex": ("google", "anthropic"),
    "openrouter": MAKERS,
}
_PROVIDER_ALIASES = {
    "gemini": "google",
    "google-genai": "google",
    "vertex_ai": "vertex",
    "vertexai": "vertex",
    "x-ai": "xai",
    "grok": "xai",
    "mistralai": "mistral",
    "together_ai": "together",
    "togetherai": "together",
    "fireworks_ai": "fireworks",
    "azure_openai": "azure",
    "azure-openai": "azure",
}
_SEARCH_RANK = {name: rank for rank, name in enumerate(MAKERS + HOSTS)}


def canonical_provider(provider: str | None) -> str | None:
    """The provider name the data uses (``gemini`` -> ``google``); ``None`` stays.

    A name of :data:`GLOBAL_PROVIDERS` (``"custom"``, ``"*"``) also becomes ``None``.
    """
    if provider is None:
        return None
    name = provider.strip().lower()
    if name in GLOBAL_PROVIDERS:
        return None
    return _PROVIDER_ALIASES.get(name, name)


def sort_providers(names: Iterable[str]) -> list[str]:
    """``names`` in search order: makers, then hosts, then any other by name."""
    return sorted(names, key=lambda name: (_SEARCH_RANK.get(name, len(_SEARCH_RANK)), name))


def search_order(model: str, provider: str | None, known: Sequence[str]) -> list[str]:
    """The providers whose prices are searched for ``model`` asked at ``provider``.

    ``known`` is every provider a book has prices for, in :func:`sort_providers`
    order; a ``head/model`` prefix naming one of them counts as the maker. The
    result has no duplicates; ``"custom"`` (provider-less registrations only)
    stands in when no provider is given and none is known.
    """
    canonical = canonical_provider(provider)
    maker = prefix_provider(model)
    head, sep, _ = normalize(model).partition("/")
    if maker is None and sep and head in known:
        maker = head
    if canonical is None:
        chain = [maker] if maker else []
        chain.extend(known)
        if not chain:
            chain.append("custom")
    else:
        chain = [canonical]
        if canonical == "openrouter" and maker:
            chain.append(maker)
        chain.extend(_FALLBACKS.get(canonical, ()))
    return list(dict.fromkeys(chain))
