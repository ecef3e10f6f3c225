"""The layering rules, read from every module's imports (ast), lazy ones included:

- no import cycles between modules (an import of `a.b.c` also runs `a` and `a.b`);
- no import from a lower layer to a higher one: campaign (the domain) < assets < scheduler <
  console < application; the emulators sit beside the tests and import only the domain;
- an import inside a function (or any block that runs later) has a comment saying why, on its
  line or the line above (an optional dependency, a measured start-up cost).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What each top-level package may import from this project (itself included).
MAY_IMPORT: dict[str, set[str]] = {
    "campaign": {"campaign"},
    "assets": {"campaign", "assets"},
    "emulators": {"campaign", "emulators"},
    "scheduler": {"campaign", "assets", "scheduler"},
    "console": {"campaign", "assets", "scheduler", "console"},
    "application": {"campaign", "assets", "emulators", "scheduler", "console", "application"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in MAY_IMPORT:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import name lands in (`scheduler.store.Store` -> `scheduler.store`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(name: str, path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, at module level) for every import of a project module in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    # `if TYPE_CHECKING:` and `try:` blocks at module level still run at import time
    for node in tree.body:
        if isinstance(node, (ast.If, ast.Try)):
            top |= {id(child) for child in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            module = _resolve(target)
            if module is not None and module != name:
                found.append((module, node.lineno, id(node) in top))
    return found


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, imports in IMPORTS.items():
        for module, _line, _top in imports:
            while module:  # importing a.b.c runs a/__init__ and a/b/__init__ first
                if module != name and not name.startswith(module + "."):
                    graph[name].add(module)
                module = module.rpartition(".")[0]
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_checker_finds_what_it_looks_for() -> None:
    """The rules below could fail: a cycle and a misplaced import are found in a made-up graph."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert "scheduler.platforms.registry" in MODULES and IMPORTS["scheduler.platforms.registry"]
    assert _resolve("scheduler.platforms.base.Publisher") == "scheduler.platforms.base"


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_no_import_from_a_lower_layer_to_a_higher_one() -> None:
    wrong = [f"{MODULES[name].relative_to(ROOT)}:{line}: {name} imports {module}"
             for name, imports in IMPORTS.items() for module, line, _top in imports
             if module.split(".")[0] not in MAY_IMPORT[name.split(".")[0]]]
    assert wrong == []


def _explained(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or on the line above it or above the block of imports it is in."""
    if "#" in lines[lineno - 1]:
        return True
    above = lineno - 2
    while above >= 0 and lines[above].strip().startswith(("import ", "from ")) and "#" not in lines[above]:
        above -= 1
    return above >= 0 and ("#" in lines[above] and lines[above].strip().startswith(("#", "import ", "from ")))


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_imports_inside_functions_say_why(package: str) -> None:
    unexplained = []
    for name, path in MODULES.items():
        if name.split(".")[0] != package:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        top = {id(node) for node in tree.body}
        for node in tree.body:
            if isinstance(node, (ast.If, ast.Try)):
                top |= {id(child) for child in ast.walk(node)}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top and not _explained(lines, node.lineno):
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert unexplained == [], "an import inside a function needs a comment saying why (or move it to the top)"
