"""The layout is the architecture: each package says what it may import, and no module imports more.

A package's rule is the "May import:" paragraph that ends its docstring, so the rule a reader sees is the
rule this test enforces.
"""

import ast
import re
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[2] / "server"
# Modules at the top of the server package, and what each may import: settings, files and logs are
# foundations that packages list in their rules; the entry points (cli, startup checks) may use anything.
TOP_MODULES = {
    "namespaces": set(),
    "problems": set(),
    "settings": {"server.namespaces"},
    "files": set(),
    "logs": set(),
}


def _packages() -> list[Path]:
    return sorted(p.parent for p in SERVER.glob("*/__init__.py") if p.parent.name != "web")


def _rule(package: Path) -> set[str] | None:
    """What a package's docstring allows, or None for "every package of the server"."""
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
    line = re.search(r"^May import: (.+)\.\Z", doc, re.M | re.S)
    assert line, f"{package.name}/__init__.py does not end with a 'May import:' paragraph"
    allowed = " ".join(line.group(1).split())
    if allowed == "every package of the server":
        return None
    if allowed == "nothing of the server":
        return set()
    return {name.strip() for name in allowed.split(",")}


def _imports(module: Path) -> set[str]:
    """The server modules a module imports, as dotted names (both `import a.b` and `from a import b`)."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "server":
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "server")
    return found


def _allowed(name: str, own: str, rule: set[str] | None) -> bool:
    """Whether a module of package `own` may import `name` (a module, or a name from a module)."""
    if rule is None or name in {"server", "server.__version__"}:
        return True
    return any(name == p or name.startswith(p + ".") for p in rule | {own})


def test_the_server_is_cut_into_packages() -> None:
    names = {p.name for p in _packages()}
    assert {"formats", "rdf", "workers", "store", "sparql", "validation", "canned", "linked_data", "submissions",
            "http"} <= names
    loose = sorted(p.stem for p in SERVER.glob("*.py") if p.stem not in {"__init__", "__main__"})
    assert loose == ["cli", "files", "logs", "namespaces", "problems", "settings", "startup_checks"]


@pytest.mark.parametrize("package", _packages(), ids=lambda p: p.name)
def test_a_package_imports_only_what_its_docstring_allows(package: Path) -> None:
    rule = _rule(package)
    own = f"server.{package.name}"
    modules = sorted(package.rglob("*.py"))
    assert modules
    wrong = [
        f"{module.relative_to(SERVER.parent)} imports {name}"
        for module in modules for name in sorted(_imports(module))
        if not _allowed(name, own, rule)
    ]
    assert wrong == []


@pytest.mark.parametrize("module", sorted(TOP_MODULES))
def test_the_foundations_import_only_below_them(module: str) -> None:
    imported = {name for name in _imports(SERVER / f"{module}.py")}
    outside = {n for n in imported if not any(n == p or n.startswith(p + ".") for p in TOP_MODULES[module])}
    assert outside == set()


def test_the_packages_rules_have_no_cycle() -> None:
    rules = {f"server.{p.name}": _rule(p) for p in _packages()}
    graph = {name: {d for d in (rule or set()) if d in rules} for name, rule in rules.items() if rule is not None}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " → ".join((*path, name))
        if name in done:
            return
        for dep in graph.get(name, ()):
            visit(dep, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())
    assert done == set(graph)


def test_test_modules_share_helpers_only_through_tests_support() -> None:
    tests = SERVER.parent / "tests"
    modules = sorted(tests.rglob("*.py"))
    assert len(modules) > 30
    wrong = [
        f"{module.relative_to(tests.parent)} imports {name}"
        for module in modules
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.ImportFrom) and (name := node.module or "").startswith("tests.")
        and not name.startswith(("tests.support.", "tests.support.rdf_compare"))
        and not (name == "tests.security.corpus" and module.parent.name == "security")
    ]
    assert wrong == []
