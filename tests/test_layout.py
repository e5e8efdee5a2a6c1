"""The house rules of docs/architecture.md, checked on the source: where SQL runs, who imports whom, how long a
function may grow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mockzoho"
FAMILIES = ("zoho", "crm", "bigin", "accounts", "cosmos", "admin", "families", "app")
MAX_STATEMENTS = 50  # per function, nested functions included: counted as strictly as ruff's PLR0915, or more


def modules(*parts: str) -> list[Path]:
    """The package's Python files (under `parts`, if given)."""
    return sorted(PACKAGE.joinpath(*parts).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """The mockzoho modules a file imports, as dotted names under the package (`store.core`, `zoho.errors`)."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            dotted = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.update(f"{dotted}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name.removeprefix("mockzoho.") for name in names if name.startswith("mockzoho.")}


@pytest.mark.parametrize("path", [*modules("store"), PACKAGE / "config.py"], ids=lambda p: p.name)
def test_the_store_and_the_settings_import_no_family(path: Path) -> None:
    assert not {name for name in imported(path) if name.split(".")[0] in FAMILIES}


def test_the_layout_check_sees_imports() -> None:
    """The checks above would pass on a file it could not read: it must see what a family module imports."""
    assert {"core.errors.CatalogueError", "core.responses.json_response"} <= imported(PACKAGE / "zoho" / "errors.py")


def test_only_the_store_runs_sql() -> None:
    outside = [f"{path.relative_to(PACKAGE)}:{node.lineno}" for path in modules()
               if path.relative_to(PACKAGE).parts[0] != "store"
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "executescript")]
    assert outside == []


def statements(function: ast.AST) -> int:
    """Statements inside a function, those of the functions nested in it included."""
    return sum(isinstance(node, ast.stmt) for node in ast.walk(function)) - 1


def test_no_function_grows_past_fifty_statements() -> None:
    long = {f"{path.relative_to(PACKAGE)}:{node.name}": statements(node) for path in modules()
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and statements(node) > MAX_STATEMENTS}
    assert long == {}
