"""The source tree's shape: no import cycle (deferred imports inside functions count too) and
no oversized file in service/ or scoring/. import-linter (`make lint`) checks the layers."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("service", "scoring", "credscore_client")
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports anywhere in it (a name imported from a package
    counts as its submodule when there is one)."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules.keys()
            if submodules:
                imported |= submodules
            elif node.module in modules:
                imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names} & modules.keys()
    return imported


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``graph``, as the modules along it, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        state[module] = "done"
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_module_imports_itself_through_others() -> None:
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert _cycle(graph) is None


def test_the_cycle_finder_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "deferred.py"
    module.write_text("def later():\n    from service.scores import documents\n")
    assert _imports(module, _modules()) == {"service.scores.documents"}
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_source_file_in_service_or_scoring_is_oversized() -> None:
    oversized = {
        str(path.relative_to(ROOT)): count
        for package in ("service", "scoring")
        for path in (ROOT / package).rglob("*.py")
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert oversized == {}
