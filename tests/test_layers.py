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
#: The broken imports each contract must catch: (module, the import added to it, the contract's
#: name as lint-imports prints it).
BROKEN = [
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
]
END = "== lint-imports exit"
#: lint-imports (its own entry point, ``importlinter.cli.lint_imports``) on each folder named, in
#: one interpreter: what ``lint-imports --no-cache`` run in that folder prints, then END and its
#: exit code. Nothing here imports ``infra``, so each run finds the folder's own copy.
LINT_EACH = f"""
import importlib, os, sys
from importlinter.cli import lint_imports
for folder in sys.argv[1:]:
    os.chdir(folder)
    importlib.invalidate_caches()
    code = lint_imports(no_cache=True)
    sys.stdout.flush()
    print("{END}", code, flush=True)
"""


@pytest.fixture(scope="module")
def linted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Exit code and output of lint-imports on the repository ("") and on a copy of it with
    each of :data:`BROKEN` (by module and import), all in one process."""
    folders = {"": ROOT}
    for module, bad_import, _ in BROKEN:
        copy = tmp_path_factory.mktemp("repo")
        shutil.copytree(
            ROOT / "infra", copy / "infra", ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
        target = copy / module
        target.write_text(target.read_text() + f"\n{bad_import}  # noqa\n")
        folders[f"{module}: {bad_import}"] = copy
    result = subprocess.run(
        [sys.executable, "-c", LINT_EACH, *map(str, folders.values())],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    runs = result.stdout.split(f"{END} ")
    assert len(runs) == len(folders) + 1, result.stdout[-2000:] + result.stderr[-2000:]
    codes = [int(run.split("\n", 1)[0]) for run in runs[1:]]
    outputs = [runs[0]] + [run.split("\n", 1)[1] for run in runs[1:-1]]
    return dict(zip(folders, zip(codes, outputs, strict=True), strict=True))


def test_layer_contracts_are_kept(linted: dict[str, tuple[int, str]]) -> None:
    code, stdout = linted[""]
    assert code == 0, stdout[-3000:]
    assert "0 broken" in stdout


@pytest.mark.parametrize(("module", "bad_import", "contract"), BROKEN)
def test_a_broken_layer_fails_the_check(
    linted: dict[str, tuple[int, str]], module: str, bad_import: str, contract: str
) -> None:
    code, stdout = linted[f"{module}: {bad_import}"]
    assert code != 0, stdout[-2000:]
    broken = stdout.split("Broken contracts", 1)[-1]
    assert "BROKEN" in stdout and contract in broken, stdout[-2000:]


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
