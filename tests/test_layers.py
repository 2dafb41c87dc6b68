"""The architecture, checked: the layer contracts of pyproject.toml (import-linter), a __main__.py
that only wires, and tests that mirror the modules they test."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_layer_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        ("infra/settings.py", "import infra.offline.render", "layers: "),
        ("infra/components/cluster.py", "import infra.offline.program", "layers: "),
        ("infra/delay.py", "import infra.settings", "layers: "),
        ("infra/components/workload.py", "import infra.config", "never the config parser"),
        ("infra/components/service.py", "import infra.components.workload", "inside components"),
        ("infra/components/image.py", "import infra.components.platform", "inside components"),
        ("infra/gcs_acl/spec.py", "import infra.settings", "stands alone"),
        ("infra/naming.py", "import infra.cutover", "layers: "),
        ("infra/gcs_acl/cli.py", "import infra.release", "stands alone"),
        ("infra/e2e/scenario.py", "import infra.release.status", "judges the release tool"),
        ("infra/settings.py", "import infra.e2e.load", "layers: "),
    ],
)
def test_a_broken_layer_fails_the_check(
    tmp_path: Path, module: str, bad_import: str, contract: str
) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "infra", copy / "infra", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / module
    target.write_text(target.read_text() + f"\n{bad_import}  # noqa\n")
    result = lint_imports(copy)
    assert result.returncode != 0, result.stdout[-2000:]
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert "BROKEN" in result.stdout and contract in broken, result.stdout[-2000:]


def test_main_only_wires() -> None:
    """Imports, one load, one platform, a loop registering each app, exports: no decisions."""
    tree = ast.parse((ROOT / "__main__.py").read_text())
    lines = len((ROOT / "__main__.py").read_text().splitlines())
    assert lines <= 40, f"__main__.py has {lines} lines"
    for node in ast.walk(tree):
        logic = ast.If | ast.IfExp | ast.FunctionDef | ast.ClassDef | ast.Try | ast.While
        assert not isinstance(node, logic), (
            f"__main__.py line {node.lineno}: {type(node).__name__} is logic; put it in infra/"
        )
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not {m for m in imported if m.startswith("infra.offline")}, imported


# Where each test folder's modules live: tests/<folder>/<path>/test_<module>.py tests
# <source>/<path>/<module>.py.
MIRRORS = {"infra": "infra", "gcs_acl": "infra/gcs_acl", "policy": "policy"}


@pytest.mark.parametrize(("tests", "source"), MIRRORS.items())
def test_tests_mirror_the_modules_they_test(tests: str, source: str) -> None:
    folder = ROOT / "tests" / tests
    orphans = [
        str(test.relative_to(ROOT))
        for test in folder.rglob("test_*.py")
        if not (
            ROOT
            / source
            / test.relative_to(folder).parent
            / f"{test.stem.removeprefix('test_')}.py"
        ).is_file()
    ]
    assert not orphans, f"no module under {source}/ for: {orphans}"


def test_gcs_acl_tests_mirror_its_modules() -> None:
    """tests/gcs_acl/test_<module>.py tests infra/gcs_acl/<module>.py, and every module there
    but the package's own files has one."""
    package = ROOT / "infra" / "gcs_acl"
    tests = ROOT / "tests" / "gcs_acl"
    tested = {test.stem.removeprefix("test_") for test in tests.glob("test_*.py")}
    modules = {m.stem for m in package.glob("*.py")} - {"__init__", "__main__"}
    assert tested - modules == set(), "tests with no module under infra/gcs_acl/"
    assert modules - tested == set(), "modules under infra/gcs_acl/ with no tests/gcs_acl test"
