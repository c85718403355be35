"""The README's install brings what its examples run on: ``[all]`` includes the ``pytest`` extra."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib", reason="reads pyproject.toml with Python 3.11's tomllib")

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _resolve(extra: str) -> dict[str, Requirement]:
    """Every requirement an extra brings, following ``tokenbudget[...]`` self-references."""
    found: dict[str, Requirement] = {}
    for line in PROJECT["optional-dependencies"][extra]:
        requirement = Requirement(line)
        if requirement.name == PROJECT["name"]:
            for inner in requirement.extras:
                found.update(_resolve(inner))
        else:
            found[requirement.name] = requirement
    return found


def test_the_quickstart_installs_all() -> None:
    quickstart = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quickstart")[1]
    assert re.search(r'pip install -e "\.\[all\]"', quickstart.split("##")[0])


def test_the_pytest_extra_brings_pytest_and_its_asyncio_plugin() -> None:
    assert set(_resolve("pytest")) == {"pytest", "pytest-asyncio"}
    assert {"pytest", "pytest-asyncio"} <= set(_resolve("all"))


def test_every_extra_of_all_resolves_here() -> None:
    """Each requirement of ``[all]`` names a distribution installed at a version it accepts."""
    for name, requirement in _resolve("all").items():
        try:
            installed = version(name)
        except PackageNotFoundError:  # pragma: no cover - the failure message is the point
            raise AssertionError(f"{name} (from tokenbudget[all]) is not installed") from None
        assert requirement.specifier.contains(installed, prereleases=True), (name, installed)


def test_the_example_suite_runs_with_the_installed_pytest() -> None:
    """``python -m pytest examples/pytest_costs``, as the README says, from the repository root."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "examples/pytest_costs", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed, 1 xfailed" in done.stdout
    assert "warning" not in done.stdout.lower()
