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
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.compat.matrix import (
    ENVIRONMENTS,
    RESULTS,
    TEST_REQUIREMENTS,
    Environment,
    pip_settings,
    tests_of,
    uv_environment,
)

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True


#: uv reads no pip.conf: the sessions hand it the indexes and links pip is configured with.
UV_ENVIRONMENT = uv_environment(pip_settings(), os.environ)


def _session(environment: Environment) -> None:
    @nox.session(name=environment.session, tags=["compat", environment.target])
    def compat(session: nox.Session) -> None:
        result = RESULTS / f"{environment.name}.json"
        result.unlink(missing_ok=True)  # a failed install leaves no stale success behind
        session.install(
            "-e", ".[httpx2]", *environment.install, *TEST_REQUIREMENTS, env=UV_ENVIRONMENT
        )
        session.run(
            "python",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.compat.results",
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
