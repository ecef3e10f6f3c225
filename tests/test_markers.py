"""The test suite's own bookkeeping, read from the test files (milliseconds, no imports):

- every file that defines tests is named so that pytest collects it (`test_*.py`);
- no module assigns `pytestmark` twice: the second assignment silently drops the first's marks
  (test_demo.py's `slow` mark was lost that way, and the whole demo ran in `-m "not slow"`);
- every part's folder of tests (tests/campaign, tests/console, ...) keeps some tests outside
  `slow`, so `pytest -m "not slow"`, the quick inner loop, still touches every part.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

TESTS = Path(__file__).resolve().parent


@functools.cache  # parsed once for the three tests
def _modules() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in sorted(TESTS.rglob("*.py"))}


def _test_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]


def _names_slow(node: ast.expr) -> bool:
    """`pytest.mark.slow`, or a list holding it."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_names_slow(item) for item in node.elts)
    return isinstance(node, ast.Attribute) and node.attr == "slow"


def _pytestmarks(tree: ast.Module) -> list[ast.Assign]:
    return [node for node in tree.body if isinstance(node, ast.Assign)
            and any(isinstance(target, ast.Name) and target.id == "pytestmark" for target in node.targets)]


def test_every_file_with_tests_is_collected() -> None:
    hidden = [path.relative_to(TESTS) for path, tree in _modules().items()
              if _test_functions(tree) and not path.name.startswith("test_")]
    assert hidden == [], f"tests pytest never collects (name the file test_*.py): {hidden}"


def test_no_module_assigns_pytestmark_twice() -> None:
    twice = [path.relative_to(TESTS) for path, tree in _modules().items() if len(_pytestmarks(tree)) > 1]
    assert twice == [], f"the second `pytestmark =` drops the first's marks; make it one list: {twice}"


def test_every_part_keeps_quick_tests() -> None:
    quick: dict[str, int] = {}
    for path, tree in _modules().items():
        if not path.name.startswith("test_") or path.parent == TESTS:
            continue
        folder = path.relative_to(TESTS).parts[0]
        quick.setdefault(folder, 0)
        if any(_names_slow(mark.value) for mark in _pytestmarks(tree)):
            continue
        quick[folder] += sum(not any(_names_slow(d.func if isinstance(d, ast.Call) else d) for d in function.decorator_list)
                             for function in _test_functions(tree))
    assert quick and not [folder for folder, count in quick.items() if count == 0], \
        f"parts whose every test is marked slow (`-m \"not slow\"` never touches them): {quick}"
