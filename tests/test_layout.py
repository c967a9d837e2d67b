"""The package's layout says what depends on what: no import circles, and the inner rooms
(the engine, schema value generation) import nothing of HTTP, the store or a wire format.

Imports are read from the source (every `import`, at module level or inside a function,
except those under `if TYPE_CHECKING:`), so a lazy import cannot hide a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mockshot"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; `from . import x` resolves to the
    submodule when there is one)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{a.name}" for a in node.names} & set(MODULES)
            found.update(submodules)
            if len(submodules) < len(node.names):  # names defined by the module itself
                found.add(base)
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: {i for i in imports_of(path) if i in MODULES and i != name}
         for name, path in MODULES.items()}


def _cycle_from(start: str) -> list[str] | None:
    stack, on_path = [(start, iter(sorted(GRAPH[start])))], [start]
    while stack:
        _, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            on_path.pop()
            continue
        if child == start:
            return [*on_path, start]
        if child not in on_path:
            on_path.append(child)
            stack.append((child, iter(sorted(GRAPH[child]))))
    return None


def test_no_module_imports_itself_back():
    circles = {" -> ".join(c) for name in sorted(GRAPH) if (c := _cycle_from(name))}
    assert sorted(circles) == []


def _imports_within(package: str) -> dict[str, set[str]]:
    return {name: imports_of(MODULES[name]) for name in MODULES
            if name == package or name.startswith(package + ".")}


@pytest.mark.parametrize("inner", ["mockshot.engine", "mockshot.schemagen"])
def test_inner_rooms_import_no_http_no_store_no_wire_format(inner):
    forbidden = ("starlette", "uvicorn", "httpx", "mockshot.surfaces", "mockshot.state",
                 "mockshot.road", "mockshot.router", "mockshot.http", "mockshot.mock",
                 "mockshot.incoming", "mockshot.control", "mockshot.resources",
                 "mockshot.app", "mockshot.server", "mockshot.scenarios")
    bad = {name: sorted(i for i in found if i.startswith(forbidden))
           for name, found in _imports_within(inner).items()}
    assert {name: found for name, found in bad.items() if found} == {}


def test_schemagen_stands_alone():
    """Value generation is a library of its own: it imports only itself and leaves."""
    allowed = ("mockshot.schemagen", "mockshot.vocabulary")
    bad = {name: sorted(i for i in found if i.startswith("mockshot") and
                        not i.startswith(allowed) and i != "mockshot")
           for name, found in _imports_within("mockshot.schemagen").items()}
    assert {name: found for name, found in bad.items() if found} == {}


def test_only_the_plugin_imports_pytest():
    importers = sorted(name for name, path in MODULES.items()
                       if {"pytest", "_pytest"} & {i.split(".")[0] for i in imports_of(path)})
    assert all(name.startswith("mockshot.testing.plugin") for name in importers), importers


def test_the_checker_sees_a_circle():
    """The cycle search itself works: a graph with a circle is reported."""
    saved = dict(GRAPH)
    try:
        GRAPH["mockshot.errors"] = {*GRAPH["mockshot.errors"], "mockshot.mock"}
        assert _cycle_from("mockshot.errors") is not None
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
