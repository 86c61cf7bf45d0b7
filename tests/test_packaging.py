"""The package builds without a warning, and carries the web pages' templates and assets."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_BUILD = """
import setuptools.build_meta as backend
wheel = backend.build_wheel("out")
backend.build_editable("out")
print("built:", wheel)
"""


def test_the_wheel_and_the_editable_install_build_without_warnings_and_carry_the_web_assets(tmp_path: Path) -> None:
    # Built from a copy (the build writes its own folders), with the setuptools the test extras install:
    # what `make setup` runs, without the network.
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "server", project / "server", ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    built = subprocess.run([sys.executable, "-W", "always", "-c", _BUILD], cwd=project, capture_output=True, text=True,
                           timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    assert [line for line in built.stderr.splitlines() if "Warning" in line] == []
    wheel = project / "out" / built.stdout.splitlines()[-1].removeprefix("built: ")
    names = zipfile.ZipFile(wheel).namelist()
    templates = [n for n in names if n.startswith("server/web/templates/") and n.endswith(".html")]
    assets = [n for n in names if n.startswith("server/web/static/")]
    assert len(templates) == len(list((ROOT / "server/web/templates").glob("*.html"))) >= 10
    assert len(assets) == len([p for p in (ROOT / "server/web/static").iterdir() if p.is_file()]) >= 5
    # Every module of every package (the packages are found, not listed: a new one must not be left out).
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "server").rglob("*.py") if "node_modules" not in p.parts}
    assert len(sources) > 60
    assert {n for n in names if n.endswith(".py")} == sources
