"""The core is sans-IO: it imports no HTTP library and nothing above the data layer."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTTP_LIBRARIES = ("httpx", "httpx2")
#: The only tokenbudget packages the core may use: itself and the data layer below it.
CORE_MAY_IMPORT = ("tokenbudget._core", "tokenbudget._data")

#: Imports tokenbudget._core with a bare parent package (tokenbudget/__init__.py, which
#: builds the whole library, is not run) and prints the modules that were loaded.
LOADED_BY_CORE = """
import importlib.util, json, sys, types
spec = importlib.util.find_spec("tokenbudget")
parent = types.ModuleType("tokenbudget")
parent.__path__ = list(spec.submodule_search_locations)
sys.modules["tokenbudget"] = parent
import tokenbudget._core
print(json.dumps(sorted(sys.modules)))
"""


def _top(module: str) -> str:
    return module.partition(".")[0]


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def test_importing_the_core_loads_no_http_library_and_no_higher_layer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOADED_BY_CORE],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    loaded = json.loads(done.stdout)

    assert "tokenbudget._core._exchange" in loaded
    assert [m for m in loaded if _top(m) in HTTP_LIBRARIES] == []
    ours = [m for m in loaded if _top(m) == "tokenbudget" and m != "tokenbudget"]
    assert [m for m in ours if not _within(m, CORE_MAY_IMPORT)] == []


def test_no_core_module_imports_an_http_library_even_indirectly() -> None:
    grimp = pytest.importorskip("grimp", reason="needs grimp (import-linter)")
    graph = grimp.build_graph("tokenbudget", include_external_packages=True, cache_dir=None)

    upstream = graph.find_upstream_modules("tokenbudget._core", as_package=True)

    assert "zlib" in upstream, "the graph must show the core's external imports"
    assert sorted(m for m in upstream if _top(m) in HTTP_LIBRARIES) == []
    ours = [m for m in upstream if _top(m) == "tokenbudget"]
    assert sorted(m for m in ours if not _within(m, CORE_MAY_IMPORT)) == []


def test_the_core_tests_import_no_http_library() -> None:
    """These tests drive the core with fakes: an HTTP library here would defeat them."""
    found = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            found += [f"{path.name}: {n}" for n in names if _top(n) in HTTP_LIBRARIES]
            found += [f"{path.name}: {n}" for n in names if n in ("tests.support", "support")]
    assert found == []
