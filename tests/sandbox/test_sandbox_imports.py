"""The sandbox's modules import in one direction only, never import the tap, and stay small.

Every import counts, including those inside functions and under TYPE_CHECKING: they hide
a cycle from the interpreter, not from a reader who must hold both modules at once.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mixmax_sandbox

PACKAGE = "mixmax_sandbox"
ROOT = Path(mixmax_sandbox.__file__).parent


def module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every dotted name `source` imports, anywhere in its body; relative ones resolved.

    `from pkg import a` yields `pkg.a` (a submodule, or a name of pkg: the caller tells).
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (the longest module each name names)."""
    paths = sorted(ROOT.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        name = module_name(path)
        edges = set()
        for target in imported_names(
            path.read_text(encoding="utf-8"), name, path.name == "__init__.py"
        ):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path that starts and ends at the same module, or None."""
    done: set[str] = set()
    path: list[str] = []  # the depth-first walk's current chain of imports

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph.get(node, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def test_the_parser_sees_function_local_and_type_checking_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import tagging\n"
        "if TYPE_CHECKING:\n"
        "    from .server import App\n"
        "def f():\n"
        "    from .org import Org\n"
        "    import mixmax_sandbox.ids\n"
    )
    names = imported_names(source, "mixmax_sandbox.control")
    assert {
        "mixmax_sandbox.tagging",
        "mixmax_sandbox.server.App",
        "mixmax_sandbox.org.Org",
        "mixmax_sandbox.ids",
    } <= names


def test_the_graph_sees_the_package() -> None:
    graph = import_graph()
    assert len(graph) > 10
    # Known edges, so an empty graph cannot pass.
    assert "mixmax_sandbox.server" in graph["mixmax_sandbox.sandbox"]
    assert "mixmax_sandbox.tagging" in graph["mixmax_sandbox.api"]


def test_finds_a_cycle_when_there_is_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_sandbox_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_sandbox_never_imports_the_tap() -> None:
    """It shares nothing with the tap but the data contract."""
    offenders = {
        module_name(path): sorted(
            n
            for n in imported_names(path.read_text(encoding="utf-8"), module_name(path))
            if n.split(".")[0] == "tap_mixmax"
        )
        for path in sorted(ROOT.rglob("*.py"))
    }
    assert not {m: n for m, n in offenders.items() if n}


def test_no_sandbox_module_passes_600_lines() -> None:
    """Rooms of a size one can hold (the brief's limit)."""
    sizes = {
        path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in ROOT.glob("*.py")
    }
    assert len(sizes) > 10
    assert not {name: n for name, n in sizes.items() if n > 600}
