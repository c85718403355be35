"""The import graph keeps the layout of the README's "How it works".

The layer contracts themselves are import-linter's (``lint-imports``, configured
in ``pyproject.toml`` and run by ``.ci/run``); these tests check what it does
not: no import cycle among the imports that run, and no private name taken
from another package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

import tokenbudget

PACKAGE = Path(tokenbudget.__file__).resolve().parent


@pytest.fixture(scope="module")
def runtime_graph() -> grimp.ImportGraph:
    """tokenbudget's imports that run (those under ``if TYPE_CHECKING:`` left out)."""
    return grimp.build_graph("tokenbudget", exclude_type_checking_imports=True)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_among_runtime_imports(runtime_graph: grimp.ImportGraph) -> None:
    assert _cycles(runtime_graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.one", "a.two", "a.three"):
        graph.add_module(module)
    graph.add_import(importer="a.one", imported="a.two")
    graph.add_import(importer="a.two", imported="a.one")
    graph.add_import(importer="a.three", imported="a.one")
    assert _cycles(graph) == [["a.one", "a.two"]]


def _is_package(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def _scope(source: str, name: str) -> str:
    """The package inside which ``name``, imported from ``source``, may be used.

    A private module is private to the package that contains it (``a.b._c.d``
    to ``a.b``); a private name, to the package it is defined in (``_x`` of
    module ``a.b.c`` to ``a.b``, of package ``a.b`` to ``a.b``).
    """
    parts = source.split(".")
    for depth, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:depth])
    return source if _is_package(source) else ".".join(parts[:-1])


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_private_names(path: Path) -> Iterator[tuple[str, str]]:
    """``(module, name)`` for every ``from module import _name`` in ``path``."""
    importer = _module_name(path)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            source = ".".join([*base, *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                yield source, alias.name


def test_no_module_imports_a_private_name_of_another_package() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        for source, name in _imported_private_names(path):
            scope = _scope(source, name)
            if not (importer == scope or importer.startswith(scope + ".")):
                found.append(f"{importer}: from {source} import {name}")
    assert found == []


@pytest.mark.parametrize(
    ("source", "scope"),
    [
        ("tokenbudget._core._exchange", "tokenbudget"),
        ("tokenbudget.budgets._gate", "tokenbudget.budgets"),
        ("tokenbudget.budgets", "tokenbudget.budgets"),
        ("tokenbudget.providers.custom", "tokenbudget.providers"),
    ],
)
def test_what_a_private_name_is_private_to(source: str, scope: str) -> None:
    assert _scope(source, "_name") == scope
