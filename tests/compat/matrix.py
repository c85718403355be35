"""The compatibility matrix: which SDK generations and frameworks are tried, each in its venv.

Plain data, read by ``noxfile.py`` (one session per environment) and by
``tests/compat/table.py`` (one README row per environment). Versions are pinned
so that the table says exactly what was tried; to try a new release, change a
pin here and regenerate the table (README, "Compatibility").
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Where each session writes its results (``.gitignore`` keeps them out of git).
RESULTS = ROOT / ".compat-results"

#: What every environment installs besides tokenbudget and its target.
TEST_REQUIREMENTS = ("pytest==9.2.0", "pytest-asyncio==1.5.0")


@dataclass(frozen=True)
class Environment:
    """One virtualenv of the matrix.

    ``name`` is the nox session (``compat-<name>``) and its results file;
    ``target`` the ``compat`` marker of the tests that must run there (and the
    package the table names); ``install`` what it pins besides tokenbudget
    (``tokenbudget[httpx2]`` from the working tree: both httpx families are
    present, as with ``tokenbudget[all]``); ``tests`` what pytest runs.
    """

    name: str
    target: str
    install: tuple[str, ...]
    tests: tuple[str, ...]
    note: str = ""
    framework: bool = False

    @property
    def session(self) -> str:
        """The nox session's name."""
        return f"compat-{self.name}"

    @property
    def pinned(self) -> list[str]:
        """The distributions this environment pins (their versions go in the table)."""
        return [re.split(r"[=<>!~\[ ;]", requirement)[0] for requirement in self.install]


def _sdk(name: str, target: str, test: str, *install: str, note: str = "") -> Environment:
    return Environment(name, target, install, (f"tests/compat/{test}",), note)


def _framework(name: str, test: str, *install: str, note: str = "") -> Environment:
    return Environment(name, name, install, (f"tests/compat/{test}",), note, framework=True)


ENVIRONMENTS: tuple[Environment, ...] = (
    _sdk("openai-1.40", "openai", "test_openai.py", "openai==1.40.0", "httpx<0.28",
         note="oldest supported"),
    _sdk("openai-2.54", "openai", "test_openai.py", "openai==2.54.0"),
    _sdk("openai-3.14", "openai", "test_openai.py", "openai==3.14.0"),
    _sdk("openai-3.60", "openai", "test_openai.py", "openai==3.60.0"),
    _sdk("anthropic-0.40", "anthropic", "test_anthropic.py", "anthropic==0.40.0", "httpx<0.28",
         note="oldest supported"),
    _sdk("anthropic-1.17", "anthropic", "test_anthropic.py", "anthropic==1.17.0"),
    _sdk("anthropic-2.17", "anthropic", "test_anthropic.py", "anthropic==2.17.0"),
    _sdk("google-genai-1.0", "google-genai", "test_google.py", "google-genai==1.0.0",
         note="oldest supported; sends with requests"),
    # 1.6.0 is the first on httpx, but its own sync stream fails (it looks for bytes in
    # httpx's text lines), with or without tokenbudget; 1.7.0 fixed that.
    _sdk("google-genai-1.7", "google-genai", "test_google.py", "google-genai==1.7.0",
         note="first on httpx with a working stream"),
    _sdk("google-genai-2.34", "google-genai", "test_google.py", "google-genai==2.34.0"),
    _sdk("google-genai-3.6", "google-genai", "test_google.py", "google-genai==3.6.1"),
    _sdk("google-genai-3.6-aiohttp", "google-genai", "test_google.py", "google-genai==3.6.1",
         "aiohttp==3.14.5", note="with aiohttp installed, async goes through aiohttp"),
    # Frameworks: the current release, on the openai SDK it resolves to today (pinned,
    # so that the table stays what it says), with everything else it brings.
    _framework("langchain-openai", "test_langchain_openai.py", "langchain-openai==1.8.1",
               "openai==3.60.0"),
    _framework("litellm", "test_litellm.py", "litellm==1.110.2", "openai==3.60.0",
               note="brings aiohttp"),
    _framework("pydantic-ai", "test_pydantic_ai.py", "pydantic-ai-slim[openai]==2.78.0",
               "openai==3.60.0"),
    _framework("instructor", "test_instructor.py", "instructor==1.17.0", "openai==3.3.0",
               note="brings aiohttp; resolves to openai 3.3"),
)  # fmt: skip

#: More test files a target's sessions run when they exist (other suites that
#: exercise one SDK generation: add them here).
_REFUSALS = ("tests/budgets/test_refusal_sdks.py", "tests/budgets/test_budget_refusal.py")
_FAMILIES = ("tests/adapters/test_family_choice_sdks.py",)
EXTRA_TESTS: dict[str, tuple[str, ...]] = {
    "openai": (*_REFUSALS, *_FAMILIES, "tests/tracker/test_patch_existing.py"),
    "anthropic": (*_REFUSALS, *_FAMILIES),
    "google-genai": (
        *_REFUSALS,
        *_FAMILIES,
        "tests/tracker/test_google_wrap.py",
        "tests/tracker/test_google_patch_all.py",
        "tests/adapters/test_requests_genai.py",
    ),
}


def tests_of(environment: Environment) -> list[str]:
    """The test paths of ``environment``'s session that exist in this tree."""
    paths = [*environment.tests, *EXTRA_TESTS.get(environment.target, ())]
    return [path for path in paths if (ROOT / path).exists()]


def pip_settings() -> dict[str, str]:
    """pip's settings on this machine, from ``pip config list`` (its files and ``PIP_*``)."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    settings: dict[str, str] = {}
    for line in listed.splitlines():  # global.find-links='/opt/wheels'
        key, _, value = line.partition("=")
        # later lines (user files, then the environment) override earlier ones
        settings[key.rpartition(".")[2]] = value.strip().strip("'\"")
    return settings


def uv_environment(pip: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The ``UV_*`` variables that give uv the indexes, links and constraints pip has.

    pip picks the best version across all its indexes; uv, by default, only looks
    at the first index that has a package, hence ``unsafe-best-match`` when extra
    indexes are set. A variable the user set already wins.
    """
    uv: dict[str, str] = {}
    if "index-url" in pip:
        uv["UV_INDEX_URL"] = pip["index-url"]
    if "extra-index-url" in pip:
        uv["UV_EXTRA_INDEX_URL"] = pip["extra-index-url"]
        uv["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    if "find-links" in pip:
        uv["UV_FIND_LINKS"] = ",".join(pip["find-links"].split())
    if "constraint" in pip:
        uv["UV_CONSTRAINT"] = pip["constraint"]
    return {name: value for name, value in uv.items() if name not in environ}
