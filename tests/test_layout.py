"""The code is laid out so that data flows one way (contract → gate → lake → models → publish → reports):
no module imports one that imports it back, shared code (`lib/`) never reaches into the Dagster definitions
(`defs/`), and the entry points (`cli`, `refresh`, `definitions`) are imported by nothing in the package."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "orchestration"
ENTRY_POINTS = {"orchestration.cli", "orchestration.refresh", "orchestration.definitions"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each module of the package → the package modules it imports (at any depth of its code)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    found: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("orchestration"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("orchestration")}
        found[name] = {t for t in targets if t in modules and t != name}
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = imports()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    cycles = sorted(name for name in graph if reaches(name, name, {name}))
    assert cycles == []


def test_shared_code_never_reaches_into_the_definitions_or_the_entry_points() -> None:
    graph = imports()
    upward = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("orchestration.lib")
        for target in targets
        if target.startswith("orchestration.defs") or target in ENTRY_POINTS
    }
    assert upward == set()
    assert {(n, t) for n, ts in graph.items() for t in ts if t in ENTRY_POINTS and n not in ENTRY_POINTS} == set()
