"""The compatibility matrix: tests/compat against each SDK generation and framework.

One session per environment of ``tests/compat/matrix.py``, each in its own
virtualenv (uv when installed, else virtualenv and pip), with tokenbudget
installed from the working tree::

    nox -t compat                  # every environment
    nox -s compat-openai-1.40      # one
    nox -t openai                  # every openai generation
    python -m tests.compat.table   # then write their results into README

A session sets ``TOKENBUDGET_COMPAT_TARGET``, so a skipped test of its own
target fails it, and writes ``.compat-results/<name>.json``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.compat.matrix import (
    ENVIRONMENTS,
    RESULTS,
    TEST_REQUIREMENTS,
    Environment,
    tests_of,
)

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = []  # a bare ``nox`` lists the sessions; ``-t compat`` runs them
nox.options.error_on_missing_interpreters = True


def _pip_config() -> dict[str, str]:
    """pip's settings on this machine (``pip config list``: files and ``PIP_*``)."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    settings: dict[str, str] = {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        name = key.rpartition(".")[2]
        # later lines (user files, then the environment) override earlier ones
        settings[name] = value.strip().strip("'\"")
    return settings


def _uv_environment() -> dict[str, str]:
    """uv reads no pip.conf: hand it the same links, indexes and constraints as pip uses."""
    pip = _pip_config()
    uv: dict[str, str] = {}
    if "index-url" in pip:
        uv["UV_INDEX_URL"] = pip["index-url"]
    if "extra-index-url" in pip:
        uv["UV_EXTRA_INDEX_URL"] = pip["extra-index-url"]
        uv["UV_INDEX_STRATEGY"] = "unsafe-best-match"  # pip's way: the best version anywhere
    if "find-links" in pip:
        uv["UV_FIND_LINKS"] = ",".join(pip["find-links"].split())
    if "constraint" in pip:
        uv["UV_CONSTRAINT"] = pip["constraint"]
    return {name: value for name, value in uv.items() if name not in os.environ}


os.environ.update(_uv_environment())


def _session(environment: Environment) -> None:
    @nox.session(name=environment.session, tags=["compat", environment.target])
    def compat(session: nox.Session) -> None:
        result = RESULTS / f"{environment.name}.json"
        result.unlink(missing_ok=True)  # a failed install leaves no stale success behind
        session.install("-e", ".[httpx2]", *environment.install, *TEST_REQUIREMENTS)
        session.run(
            "python",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *tests_of(environment),
            *session.posargs,
            env={
                "TOKENBUDGET_COMPAT_TARGET": environment.target,
                "TOKENBUDGET_COMPAT_SESSION": environment.name,
                "TOKENBUDGET_COMPAT_RESULTS": str(RESULTS),
            },
        )


for _environment in ENVIRONMENTS:
    _session(_environment)
