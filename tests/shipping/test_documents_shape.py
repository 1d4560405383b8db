"""The PDF code stays small: no function in `shipping/documents/` is longer than about 80 lines (issue 13).

Parsed with `ast`, so nested functions and methods count on their own and a new module is checked without being
listed here."""

from __future__ import annotations

import ast
from pathlib import Path

import shipping.documents

LIMIT = 80
PACKAGE = Path(shipping.documents.__file__).parent


def _long_functions(source: str, module: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > LIMIT:
                found.append(f"{module}:{node.lineno} {node.name} is {length} lines")
    return found


def test_no_function_in_the_documents_package_is_over_80_lines() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert {m.name for m in modules} >= {"toolkit.py", "labels.py", "pick_list.py", "packing_slips.py"}
    too_long = [f for m in modules for f in _long_functions(m.read_text(), m.name)]
    assert too_long == []


def test_the_check_catches_a_long_function() -> None:
    body = "\n".join(f"    x = {i}" for i in range(LIMIT))
    assert _long_functions(f"def long() -> None:\n{body}\n", "example.py") == ["example.py:1 long is 81 lines"]
