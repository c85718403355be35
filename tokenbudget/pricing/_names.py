"""Model-name normalisation: the candidate keys one reported name is looked up by.

Names arrive as the SDKs and APIs spell them: exact ids, dated snapshots
(``gpt-4o-2024-08-06``, ``claude-sonnet-4-5-20250929``, Vertex's
``claude-3-5-sonnet@20240620``, Gemini's ``...-preview-05-20``), with provider or
path prefixes (``openai/gpt-4o``, ``models/gemini-2.5-pro``,
``accounts/fireworks/models/x``), with ``-latest`` aliases, and with dots or dashes
in version numbers (``claude-sonnet-4.5``), and with Claude's family word and version
in either order (``claude-4-opus``, ``claude-sonnet-3-7``: Anthropic's own ids put
the version first up to 3.7 and the family first since 4). :func:`candidates`
lists the keys to try, most specific first, so a snapshot the data knows exactly is always found
before its base model. This runs once per distinct name: results are cached.
"""

from __future__ import annotations

import re

__all__ = ["candidates", "normalize", "prefix_provider"]

#: Suffixes that mark a snapshot or alias of a base model, stripped one at a time.
_SUFFIXES = (
    re.compile(r"@(\d{8}|\d{3}|latest|default)$"),  # Vertex: claude-x@20240620, gemini@002
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # OpenAI: gpt-4o-2024-08-06
    re.compile(r"-\d{8}$"),  # Anthropic: claude-sonnet-4-5-20250929
    re.compile(r"-\d{2}-\d{4}$"),  # Gemini: -preview-09-2025
    re.compile(r"-\d{2}-\d{2}$"),  # Gemini: -preview-05-20
    re.compile(r"-\d{4}$"),  # OpenAI/xAI/Mistral: -0125, -0709, -2411
    re.compile(r"-\d{3}$"),  # Gemini: -001
    re.compile(r"-latest$"),
)
_DOT_VERSION = re.compile(r"(?<=\d)\.(?=\d)")
_DASH_VERSION = re.compile(r"(?<=-\d)-(?=\d(?:$|-))")
#: A Claude name (after any path): one family word and one version, in either order, then an
#: optional date or ``-latest``. Versions are one or two numbers (``4``, ``3-5``,
#: ``4.5``); an 8-digit date is never read as a minor version.
_CLAUDE = re.compile(
    r"(?P<path>(?:[^/]+/)*)claude-(?:(?P<family>[a-z]{3,})-(?P<version>\d{1,2}(?:[.-]\d{1,2})?)"
    r"|(?P<version_first>\d{1,2}(?:[.-]\d{1,2})?)-(?P<family_last>[a-z]{3,}))"
    r"(?P<tail>-\d{8}|-latest|@\d{8}|@latest)?"
)

#: Path prefixes that name the provider that makes the model.
_PREFIX_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "gemini": "google",
    "vertex_ai": "vertex",
    "x-ai": "xai",
    "xai": "xai",
    "deepseek": "deepseek",
    "deepseek-ai": "deepseek",
    "mistral": "mistral",
    "mistralai": "mistral",
    "groq": "groq",
    "together": "together",
    "together_ai": "together",
    "fireworks": "fireworks",
    "fireworks_ai": "fireworks",
    "perplexity": "perplexity",
    "openrouter": "openrouter",
    "azure": "azure",
}


def normalize(name: str) -> str:
    """The lookup key of a name: stripped and lower-cased."""
    return name.strip().lower()


def prefix_provider(name: str) -> str | None:
    """The provider a ``maker/model`` style prefix names, if any."""
    head, sep, _ = normalize(name).partition("/")
    return _PREFIX_PROVIDERS.get(head) if sep else None


def _strip_snapshot(name: str) -> list[str]:
    """``name`` followed by each shorter form with one more snapshot suffix removed."""
    forms = [name]
    current = name
    while True:
        for pattern in _SUFFIXES:
            shorter = pattern.sub("", current)
            if shorter != current and shorter and not shorter.endswith("-"):
                current = shorter
                forms.append(current)
                break
        else:
            return forms


def _claude_orders(name: str) -> list[str]:
    """Both word orders of a Claude name, version dashed: ``claude-4.5-haiku`` ->
    ``claude-haiku-4-5``, ``claude-4-5-haiku``. Empty for any other name.

    Only the order and the separator change, never the family, the version or the
    date, so a spelling can only reach the model it names.
    """
    match = _CLAUDE.fullmatch(name) if "claude-" in name else None
    if match is None:
        return []
    family = match["family"] or match["family_last"]
    version = (match["version"] or match["version_first"]).replace(".", "-")
    path, tail = match["path"], match["tail"] or ""
    return [f"{path}claude-{family}-{version}{tail}", f"{path}claude-{version}-{family}{tail}"]


def _fine_tune_base(name: str) -> str | None:
    """``ft:gpt-4o-mini-2024-07-18:org::id`` -> ``ft:gpt-4o-mini-2024-07-18``."""
    if not name.startswith("ft:"):
        return None
    base = name[3:].split(":", 1)[0]
    return f"ft:{base}" if base else None


def candidates(name: str) -> list[str]:
    """Lookup keys for ``name``, most specific first, without duplicates.

    Order: the name itself; the name without each leading path segment; then for
    each of those, the forms with snapshot suffixes stripped; then a Claude name's
    forms in both word orders; then all of these with version dots and dashes
    swapped (``4.5`` <-> ``4-5``). Fine-tuned names
    (``ft:...``) only ever match fine-tune prices, never their base model's.
    """
    key = normalize(name)
    fine_tune = _fine_tune_base(key)
    if fine_tune is not None:
        return _dedupe([key, *_strip_snapshot(fine_tune)])
    parts = key.split("/")
    paths = ["/".join(parts[i:]) for i in range(len(parts)) if parts[i]]
    forms = [form for path in paths for form in _strip_snapshot(path)]
    forms += [order for form in forms for order in _claude_orders(form)]
    swapped: list[str] = []
    for form in forms:
        dashed = _DOT_VERSION.sub("-", form)
        dotted = _DASH_VERSION.sub(".", form)
        swapped.extend(f for f in (dashed, dotted) if f != form)
    return _dedupe([*paths, *forms, *swapped])


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
