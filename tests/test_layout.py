"""The architecture's rules, checked on the source: who may import whom, and sizes."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import tray

PACKAGE = Path(tray.__file__).parent
SHELLS = ("tray.ui", "tray.cli")
ENTRY_POINTS = ("tray.main", "tray.__main__")
UI_LIBRARIES = ("tkinter", "pystray", "plyer", "PIL")
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 250


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield module_name(path), ast.parse(path.read_text(encoding="utf-8"), str(path))


def imports(tree: ast.Module, *, top_level_only: bool = False) -> set[str]:
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_package_has_the_documented_sub_packages() -> None:
    found = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert found == {"credentials", "runs", "sandbox", "repo", "cli", "ui"}
    architecture = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for name in sorted(found):
        assert f"{name}/" in architecture, f"docs/ARCHITECTURE.md does not show tray/{name}/"


@pytest.mark.parametrize(("name", "tree"), list(modules()), ids=lambda v: str(v)[:40])
def test_imports_follow_the_core_and_shell_rule(name: str, tree: ast.Module) -> None:
    used = {i for i in imports(tree) if within(i, ("tray",))}
    if within(name, ENTRY_POINTS):
        return  # the one place that chooses a shell
    if within(name, ("tray.ui",)):
        assert not {i for i in used if within(i, ("tray.cli",))}, "the tray shell imports the CLI"
    elif within(name, ("tray.cli",)):
        assert not {i for i in used if within(i, ("tray.ui",))}, "the CLI imports the tray shell"
    else:
        assert not {i for i in used if within(i, SHELLS)}, f"core module {name} imports a shell"
        top = imports(tree, top_level_only=True)
        assert not {i for i in top if within(i, UI_LIBRARIES)}, f"{name} loads a UI library"


def test_only_the_sandbox_module_imports_the_daytona_sdk_and_only_lazily() -> None:
    importers = {name for name, tree in modules() if within_any_import(tree, "daytona")}
    assert importers == {"tray.sandbox.daytona"}
    tree = dict(modules())["tray.sandbox.daytona"]
    top_level = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom)) and within_any_import_node(node)
    ]
    assert top_level == [], "the SDK is imported when the module loads"


def within_any_import(tree: ast.Module, package: str) -> bool:
    return any(within(i, (package,)) for i in imports(tree))


def within_any_import_node(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return within(node.module or "", ("daytona",))
    return any(within(alias.name, ("daytona",)) for alias in node.names)


@pytest.mark.parametrize(("name", "tree"), list(modules()), ids=lambda v: str(v)[:40])
def test_modules_and_classes_stay_small_or_say_why(name: str, tree: ast.Module) -> None:
    lines = max((getattr(node, "end_lineno", 0) or 0) for node in ast.walk(tree))
    reason = ast.get_docstring(tree) or ""
    assert lines <= MAX_MODULE_LINES or "Long because" in reason, f"{name}: {lines} lines"
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            why = ast.get_docstring(node) or ""
            assert size <= MAX_CLASS_LINES or "Long because" in why, f"{name}.{node.name}: {size}"


def test_every_public_core_module_declares_its_api() -> None:
    missing = [
        name
        for name, tree in modules()
        if not within(name, (*SHELLS, *ENTRY_POINTS))
        and not name.rsplit(".", 1)[-1].startswith("_")
        and name.count(".") >= 1
        and tree.body
        and not any(
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            for node in tree.body
        )
        and any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in tree.body)
    ]
    assert missing == []
